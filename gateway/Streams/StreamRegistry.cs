using System.Diagnostics.Metrics;
using Gateway.Pipeline;
using Gateway.Routing;

namespace Gateway.Streams;

/// <summary>
/// The open streams of this instance, indexed by session and by user so a revocation closes exactly theirs. Touched
/// when a stream opens or ends and on invalidations, never by ordinary requests; one lock is enough at that rate.
/// </summary>
internal sealed class StreamRegistry
{
    private readonly Lock _lock = new();
    private readonly HashSet<OpenStream> _all = [];
    private readonly Dictionary<string, List<OpenStream>> _bySession = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<OpenStream>> _byUser = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly UpDownCounter<int> _open;
    private readonly Counter<long> _closed;
    private volatile bool _draining;

    public StreamRegistry(TimeProvider time, IMeterFactory meters)
    {
        _time = time;
        var meter = meters.Create("Gateway");
        _open = meter.CreateUpDownCounter<int>("gateway.streams.open", null, "Open WebSockets, gRPC calls and event streams, by kind.");
        _closed = meter.CreateCounter<long>("gateway.streams.closed", null,
            "Streams the gateway closed, by kind and reason (revoked, session-invalid, membership-changed, reclassified, shutdown).");
    }

    /// <summary>True once shutdown began: new streams are refused.</summary>
    public bool Draining => _draining;

    public int Count
    {
        get { lock (_lock) return _all.Count; }
    }

    /// <summary>
    /// Registers a stream under its session and its user, and takes its places in <paramref name="counts"/>; null, and
    /// nothing registered, when its user or its address already has as many open as allowed (0: no limit).
    /// </summary>
    public OpenStream? TryRegister(HttpContext context, GatewayRequestFeature feature, StreamKind kind, RouteClass routeClass,
        StreamCounts counts, int maxPerUser, int maxPerAddress)
    {
        var stream = new OpenStream(context, kind, routeClass, feature.TokenHash, feature.Principal?.UserId, feature.OrgId, counts, _time.GetUtcNow(),
            feature.RouteId);
        lock (_lock)
        {
            if (IsFull(counts.User, maxPerUser) || IsFull(counts.Address, maxPerAddress)) return null;
            Take(counts.User);
            Take(counts.Address);
            _all.Add(stream);
            if (stream.SessionHash is { } hash) Index(_bySession, hash).Add(stream);
            if (stream.UserId is { } user) Index(_byUser, user).Add(stream);
        }
        _open.Add(1, new KeyValuePair<string, object?>("kind", StreamDetector.Name(kind)));
        return stream;
    }

    /// <summary>Open streams counted under a key of <see cref="StreamCounts"/> on this instance (tests).</summary>
    public int OpenOf(string countKey)
    {
        lock (_lock) return _counts.GetValueOrDefault(countKey);
    }

    private bool IsFull(string? key, int max) => key is not null && max > 0 && _counts.GetValueOrDefault(key) >= max;

    private void Take(string? key)
    {
        if (key is not null) _counts[key] = _counts.GetValueOrDefault(key) + 1;
    }

    private void Give(string? key)
    {
        if (key is null || !_counts.TryGetValue(key, out int open)) return;
        if (open > 1) _counts[key] = open - 1;
        else _counts.Remove(key);
    }

    public void Unregister(OpenStream stream)
    {
        stream.End();
        lock (_lock)
        {
            if (!_all.Remove(stream)) return;
            Give(stream.Counts.User);
            Give(stream.Counts.Address);
            if (stream.SessionHash is { } hash) Unindex(_bySession, hash, stream);
            if (stream.UserId is { } user) Unindex(_byUser, user, stream);
        }
        _open.Add(-1, new KeyValuePair<string, object?>("kind", StreamDetector.Name(stream.Kind)));
    }

    /// <summary>Closes the streams a session opened; returns how many.</summary>
    public int CloseSession(string sessionHash, string reason) => Close(Find(_bySession, sessionHash), reason);

    /// <summary>Closes every stream of a user (logout everywhere, password change, membership change).</summary>
    public int CloseUser(string userId, string reason) => Close(Find(_byUser, userId), reason);

    public int CloseAll(string reason) => Close(Snapshot(), reason);

    /// <summary>Stops admitting streams (shutdown); open ones go on until closed.</summary>
    public void BeginDrain() => _draining = true;

    public OpenStream[] Snapshot()
    {
        lock (_lock) return [.. _all];
    }

    /// <summary>Closes outside the registry lock: aborting runs the request's cancellation callbacks.</summary>
    public int Close(IReadOnlyList<OpenStream> streams, string reason)
    {
        int closed = 0;
        foreach (var stream in streams)
        {
            if (!stream.Close(reason)) continue;
            closed++;
            _closed.Add(1, new KeyValuePair<string, object?>("kind", StreamDetector.Name(stream.Kind)), new KeyValuePair<string, object?>("reason", reason));
        }
        return closed;
    }

    private OpenStream[] Find(Dictionary<string, List<OpenStream>> index, string key)
    {
        lock (_lock) return index.TryGetValue(key, out var list) ? [.. list] : [];
    }

    private static List<OpenStream> Index(Dictionary<string, List<OpenStream>> index, string key)
    {
        if (!index.TryGetValue(key, out var list)) index[key] = list = new List<OpenStream>(1);
        return list;
    }

    private static void Unindex(Dictionary<string, List<OpenStream>> index, string key, OpenStream stream)
    {
        if (!index.TryGetValue(key, out var list)) return;
        list.Remove(stream);
        if (list.Count == 0) index.Remove(key);
    }
}
