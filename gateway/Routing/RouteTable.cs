using Yarp.ReverseProxy.Configuration;

namespace Gateway.Routing;

/// <summary>Holds the active snapshot and pushes each accepted one to YARP, so classes and routes change together.</summary>
internal sealed partial class RouteTable : IRouteTable
{
    private readonly InMemoryConfigProvider _proxy;
    private readonly string _backendBaseUrl;
    private readonly TimeProvider _time;
    private readonly ILogger<RouteTable> _logger;
    private readonly Lock _gate = new();
    private volatile RouteClassSnapshot _current;
    private volatile ConfigReloadStatus _lastReload;

    public RouteTable(RouteClassSnapshot initial, InMemoryConfigProvider proxy, string backendBaseUrl, TimeProvider time, ILogger<RouteTable> logger)
    {
        _current = initial;
        _proxy = proxy;
        _backendBaseUrl = backendBaseUrl;
        _time = time;
        _logger = logger;
        _lastReload = new ConfigReloadStatus(time.GetUtcNow(), true, initial.Version, initial.Version, []);
    }

    public RouteClassSnapshot Current => _current;
    public ConfigReloadStatus LastReload => _lastReload;
    public event Action<RouteClassSnapshot>? Changed;

    /// <summary>Re-reads the file: a valid one replaces classes and routes; an invalid one is rejected as a whole.</summary>
    public ConfigReloadStatus Reload(string path)
    {
        var errors = RouteClassFileParser.ParseFile(path, out var snapshot);
        lock (_gate)
        {
            if (snapshot is null)
            {
                foreach (var error in errors) Log.ReloadError(_logger, path, error);
                Log.ReloadRejected(_logger, path, errors.Count, _current.Version);
                _lastReload = new ConfigReloadStatus(_time.GetUtcNow(), false, _current.Version, null, errors);
                return _lastReload;
            }
            _current = snapshot;
            _proxy.Update(ProxyConfigBuilder.Routes(snapshot), ProxyConfigBuilder.Clusters(snapshot, _backendBaseUrl));
            _lastReload = new ConfigReloadStatus(_time.GetUtcNow(), true, snapshot.Version, snapshot.Version, []);
            Log.Reloaded(_logger, path, snapshot.Version, snapshot.Classes.Count, snapshot.Routes.Count);
        }
        Changed?.Invoke(snapshot);
        return _lastReload;
    }

    private static partial class Log
    {
        [LoggerMessage(2001, LogLevel.Information, "Route classes reloaded from {Path}: version {Version}, {Classes} classes, {Routes} routes.", EventName = "RouteClassesReloaded")]
        public static partial void Reloaded(ILogger logger, string path, string version, int classes, int routes);

        [LoggerMessage(2002, LogLevel.Error, "Route-class file {Path} rejected: {Error}", EventName = "RouteClassError")]
        public static partial void ReloadError(ILogger logger, string path, string error);

        [LoggerMessage(2003, LogLevel.Warning, "Route-class file {Path} rejected with {Count} errors; version {Version} stays active.", EventName = "RouteClassesRejected")]
        public static partial void ReloadRejected(ILogger logger, string path, int count, string version);
    }
}
