using System.Collections.Concurrent;

namespace Gateway.Observability;

/// <summary>What a request contributes to <see cref="RollingStats"/>.</summary>
/// <param name="ResponseCache">null when the response cache did not apply; otherwise whether it was a hit.</param>
/// <param name="SessionSource">l1, l2, backend, negative, rejected, or null when no session was validated.</param>
/// <param name="RouteClass">The route class, or null to count the request under its tier only.</param>
/// <param name="Cluster">The cluster it was proxied to; null when the gateway answered itself.</param>
/// <param name="Shed">True when load shedding refused it (503), so a shed is told apart from a backend's 503.</param>
internal readonly record struct RequestSample(string Tier, double DurationMs, int StatusCode, bool OverBudget, bool? ResponseCache, string? SessionSource,
    string? RouteClass = null, string? Cluster = null, bool Shed = false);

/// <summary>
/// In-process rolling statistics for <c>/gateway/stats</c>, <c>/gateway/validate</c>, the fleet summary and the
/// dashboard: per tier, per route class and per cluster, a ring of 900 one-second slots (15 minutes), each with a
/// log-bucketed latency histogram and counters. Recording is Interlocked increments into the current slot of three
/// rings at most; windows are merged on demand. Driven by <see cref="TimeProvider"/>.
/// </summary>
internal sealed class RollingStats
{
    /// <summary>Slots kept: 15 minutes of seconds.</summary>
    public const int Slots = 900;
    // Names come from configuration, but cap them anyway so a bug cannot grow memory without bound (about 1 MB a ring).
    private const int MaxTiers = 32;
    private const int MaxRouteClasses = 64;
    private const int MaxClusters = 32;

    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, StatsSlot[]> _tiers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, StatsSlot[]> _classes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, StatsSlot[]> _clusters = new(StringComparer.Ordinal);

    public RollingStats(TimeProvider time) => _time = time;

    /// <summary>Tier names seen so far.</summary>
    public ICollection<string> Tiers => _tiers.Keys;

    /// <summary>Names seen so far in a dimension.</summary>
    public ICollection<string> Keys(StatsDimension dimension) => Rings(dimension).Keys;

    public void Record(in RequestSample sample)
    {
        long second = CurrentSecond();
        if (Ring(_tiers, sample.Tier, MaxTiers) is { } tier) Add(tier, second, sample);
        if (sample.RouteClass is { } name && Ring(_classes, name, MaxRouteClasses) is { } cls) Add(cls, second, sample);
        if (sample.Cluster is { } id && Ring(_clusters, id, MaxClusters) is { } cluster) Add(cluster, second, sample);
    }

    /// <summary>
    /// Merges <paramref name="seconds"/> seconds of a tier (or of all tiers when null) ending
    /// <paramref name="endSecondsAgo"/> seconds before now; 0 includes the current second.
    /// </summary>
    public WindowSnapshot Snapshot(string? tier, int seconds, int endSecondsAgo = 0) =>
        Snapshot(StatsDimension.Tier, tier, seconds, endSecondsAgo);

    /// <summary>As <see cref="Snapshot(string?, int, int)"/> for any dimension; a null key merges all of its series.</summary>
    public WindowSnapshot Snapshot(StatsDimension dimension, string? key, int seconds, int endSecondsAgo = 0)
    {
        seconds = Math.Clamp(seconds, 1, Slots);
        endSecondsAgo = Math.Clamp(endSecondsAgo, 0, Slots - seconds);
        var merged = new WindowAccumulator(seconds);
        long now = CurrentSecond() - endSecondsAgo;
        foreach (var (name, ring) in Rings(dimension))
        {
            if (key is not null && !string.Equals(name, key, StringComparison.Ordinal)) continue;
            for (long s = now - seconds + 1; s <= now; s++)
            {
                var slot = ring[(int)(((s % Slots) + Slots) % Slots)];
                lock (slot)
                {
                    if (slot.Second == s) merged.Add(slot);
                }
            }
        }
        return merged.ToSnapshot();
    }

    private ConcurrentDictionary<string, StatsSlot[]> Rings(StatsDimension dimension) => dimension switch
    {
        StatsDimension.RouteClass => _classes,
        StatsDimension.Cluster => _clusters,
        _ => _tiers,
    };

    private static StatsSlot[]? Ring(ConcurrentDictionary<string, StatsSlot[]> rings, string key, int max)
    {
        if (rings.TryGetValue(key, out var ring)) return ring;
        if (rings.Count >= max) return null;
        return rings.GetOrAdd(key, static _ => CreateRing());
    }

    private static void Add(StatsSlot[] ring, long second, in RequestSample sample)
    {
        var slot = ring[(int)(second % Slots)];
        if (Volatile.Read(ref slot.Second) != second)
        {
            lock (slot)
            {
                if (slot.Second != second) slot.Reset(second);
            }
        }

        Interlocked.Increment(ref slot.Latency[LatencyBuckets.IndexOf(sample.DurationMs)]);
        Interlocked.Increment(ref slot.Requests);
        if (sample.StatusCode >= 500) Interlocked.Increment(ref slot.Errors);
        if (sample.StatusCode == 401) Interlocked.Increment(ref slot.Unauthorized);
        else if (sample.StatusCode == 429) Interlocked.Increment(ref slot.RateLimited);
        if (sample.Shed) Interlocked.Increment(ref slot.Shed);
        if (sample.OverBudget) Interlocked.Increment(ref slot.OverBudget);
        if (sample.ResponseCache is { } hit)
        {
            Interlocked.Increment(ref slot.ResponseCacheLookups);
            if (hit) Interlocked.Increment(ref slot.ResponseCacheHits);
        }
        switch (sample.SessionSource)
        {
            case "l1": Interlocked.Increment(ref slot.SessionL1); break;
            case "l2": Interlocked.Increment(ref slot.SessionL2); break;
            case "backend": Interlocked.Increment(ref slot.SessionBackend); break;
            case "negative": Interlocked.Increment(ref slot.SessionNegative); break;
            case "rejected": Interlocked.Increment(ref slot.SessionRejected); break;
        }
    }

    private long CurrentSecond() => _time.GetUtcNow().ToUnixTimeSeconds();

    private static StatsSlot[] CreateRing()
    {
        var ring = new StatsSlot[Slots];
        for (int i = 0; i < ring.Length; i++) ring[i] = new StatsSlot();
        return ring;
    }
}
