using Yarp.ReverseProxy.Configuration;

namespace Gateway.Routing;

/// <summary>Holds the active snapshot and pushes each accepted one to YARP, so classes and routes change together.</summary>
internal sealed partial class RouteTable : IRouteTable
{
    /// <summary>How long a reload waits for YARP to confirm it applied the routes before making the file current anyway.</summary>
    private static readonly TimeSpan ApplyConfirmationTimeout = TimeSpan.FromSeconds(10);
    private readonly InMemoryConfigProvider _proxy;
    private readonly ProxyConfigApplyWatch _applied;
    private readonly IConfigValidator _proxyValidator;
    private readonly string _backendBaseUrl;
    private readonly string? _backendH2cUrl;
    private readonly string[] _settingsIdentityHeaders;
    private readonly TimeProvider _time;
    private readonly ILogger<RouteTable> _logger;
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _reloading = new(1, 1);
    private volatile RouteClassSnapshot _current;
    private volatile RouteClassSnapshot? _previous;
    // Handed to YARP, not yet confirmed applied: its routes may already match requests.
    private volatile RouteClassSnapshot? _incoming;
    private volatile ConfigReloadStatus _lastReload;
    private volatile ConfigReloadStatus? _lastRejected;

    public RouteTable(RouteClassSnapshot initial, InMemoryConfigProvider proxy, ProxyConfigApplyWatch applied, IConfigValidator proxyValidator,
        string backendBaseUrl, string? backendH2cUrl, string[] settingsIdentityHeaders, TimeProvider time, ILogger<RouteTable> logger)
    {
        _current = initial;
        _proxy = proxy;
        _applied = applied;
        _proxyValidator = proxyValidator;
        _backendBaseUrl = backendBaseUrl;
        _backendH2cUrl = backendH2cUrl;
        _settingsIdentityHeaders = settingsIdentityHeaders;
        _time = time;
        _logger = logger;
        _lastReload = new ConfigReloadStatus(time.GetUtcNow(), true, initial.Version, initial.Version, []);
    }

    public RouteClassSnapshot Current => _current;

    /// <summary>
    /// Routing and classification read two holders: YARP's endpoints and this table. A request routing matched on the
    /// routes of the previous file, classified after the swap, named a class the new file had renamed and fell back to
    /// the default class: a role route checked as a plain session route, for that request. The previous snapshot's class
    /// is the one its route was built with.
    /// </summary>
    public RouteClass ClassOf(string? name)
    {
        if (name is null) return _current.DefaultClass;
        var current = _current;
        if (current.Classes.TryGetValue(name, out var cls)) return cls;
        return _previous is { } previous && previous.Classes.TryGetValue(name, out cls) ? cls : current.DefaultClass;
    }
    public (RouteClassSnapshot Snapshot, RouteClass Class) Resolve(string? generation, string? name)
    {
        var current = _current;
        if (generation is null || generation == current.Generation) return (current, current.ClassOrDefault(name));
        if (_incoming is { } incoming && generation == incoming.Generation) return (incoming, incoming.ClassOrDefault(name));
        if (_previous is { } previous && generation == previous.Generation) return (previous, previous.ClassOrDefault(name));
        // Routes older than both snapshots (the proxy has not taken the last two files): by name, as before generations.
        return (current, ClassOf(name));
    }

    public ConfigReloadStatus LastReload => _lastReload;
    public ConfigReloadStatus? LastRejected => _lastRejected;
    public event Action<RouteClassSnapshot>? Changed;

    /// <summary>Re-reads the file: a valid one replaces classes and routes; an invalid one is rejected as a whole.</summary>
    public async Task<ConfigReloadStatus> ReloadAsync(string path)
    {
        // One reload at a time, so an older file can never be applied after a newer one.
        await _reloading.WaitAsync().ConfigureAwait(false);
        try { return await ReloadCoreAsync(path).ConfigureAwait(false); }
        finally { _reloading.Release(); }
    }

    private async Task<ConfigReloadStatus> ReloadCoreAsync(string path)
    {
        var errors = RouteClassFileParser.ParseFile(path, out var snapshot, _settingsIdentityHeaders);
        IReadOnlyList<RouteConfig> routes = [];
        IReadOnlyList<ClusterConfig> clusters = [];
        if (snapshot is not null)
        {
            // YARP's own checks too, so that nothing the proxy would refuse can replace a working configuration.
            routes = ProxyConfigBuilder.Routes(snapshot);
            clusters = ProxyConfigBuilder.Clusters(snapshot, _backendBaseUrl, _backendH2cUrl);
            var proxyErrors = new List<string>();
            foreach (var route in routes)
                foreach (var e in await _proxyValidator.ValidateRouteAsync(route).ConfigureAwait(false))
                    proxyErrors.Add($"Route '{route.RouteId}' is refused by the proxy: {e.Message}");
            foreach (var cluster in clusters)
                foreach (var e in await _proxyValidator.ValidateClusterAsync(cluster).ConfigureAwait(false))
                    proxyErrors.Add($"Cluster '{cluster.ClusterId}' is refused by the proxy: {e.Message}");
            if (proxyErrors.Count > 0) { errors = proxyErrors; snapshot = null; }
        }
        if (snapshot is null) return Reject(path, errors);

        // YARP applies the routes from its change callback, maybe inside Update, maybe later. Until it confirms, the
        // previous file stays current (status, version); requests that already match the new routes find their
        // snapshot as the incoming one.
        _incoming = snapshot;
        var outcome = _applied.Expect(routes);
        _proxy.Update(routes, clusters);
        Exception? failure = null;
        try { failure = await outcome.WaitAsync(ApplyConfirmationTimeout).ConfigureAwait(false); }
        catch (TimeoutException) { Log.ApplyNotConfirmed(_logger, path, snapshot.Version, ApplyConfirmationTimeout.TotalSeconds); }
        lock (_gate)
        {
            if (failure is not null)
            {
                _incoming = null;
                return Reject(path, [$"The proxy refused to apply the routes: {failure.Message}"]);
            }
            // In this order: a lock-free Resolve that missed the new current still finds it as incoming.
            _previous = _current;
            _current = snapshot;
            _incoming = null;
            // Logged before the status shows it, as for a rejected file: the status never runs ahead of the log.
            Log.Reloaded(_logger, path, snapshot.Version, snapshot.Classes.Count, snapshot.Routes.Count);
            _lastReload = new ConfigReloadStatus(_time.GetUtcNow(), true, snapshot.Version, snapshot.Version, []);
        }
        Changed?.Invoke(snapshot);
        return _lastReload;
    }

    private ConfigReloadStatus Reject(string path, IReadOnlyList<string> errors)
    {
        lock (_gate)
        {
            foreach (var error in errors) Log.ReloadError(_logger, path, error);
            Log.ReloadRejected(_logger, path, errors.Count, _current.Version);
            _lastReload = new ConfigReloadStatus(_time.GetUtcNow(), false, _current.Version, RouteClassFileParser.TryReadVersion(path), errors);
            _lastRejected = _lastReload;
            return _lastReload;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(2001, LogLevel.Information, "Route classes reloaded from {Path}: version {Version}, {Classes} classes, {Routes} routes.", EventName = "RouteClassesReloaded")]
        public static partial void Reloaded(ILogger logger, string path, string version, int classes, int routes);

        [LoggerMessage(2002, LogLevel.Error, "Route-class file {Path} rejected: {Error}", EventName = "RouteClassError")]
        public static partial void ReloadError(ILogger logger, string path, string error);

        [LoggerMessage(2003, LogLevel.Warning, "Route-class file {Path} rejected with {Count} errors; version {Version} stays active.", EventName = "RouteClassesRejected")]
        public static partial void ReloadRejected(ILogger logger, string path, int count, string version);

        [LoggerMessage(2008, LogLevel.Warning, "Route-class file {Path} version {Version}: the proxy did not confirm applying its routes within {Seconds} s; it is made current anyway.", EventName = "RouteClassesApplyUnconfirmed")]
        public static partial void ApplyNotConfirmed(ILogger logger, string path, string version, double seconds);
    }
}
