using System.Collections.Concurrent;

namespace Gateway.Observability;

/// <summary>What a request contributes to <see cref="RollingStats"/>.</summary>
/// <param name="ResponseCache">null when the response cache did not apply; otherwise whether it was a hit.</param>
/// <param name="SessionSource">l1, l2, backend, negative, rejected, or null when no session was validated.</param>
internal readonly record struct RequestSample(string Tier, double DurationMs, int StatusCode, bool OverBudget, bool? ResponseCache, string? SessionSource);

/// <summary>
/// In-process rolling statistics for <c>/gateway/stats</c> and the dashboard: per tier, a ring of 900 one-second slots
/// (15 minutes), each with a log-bucketed latency histogram and counters. Recording is Interlocked increments into the
/// current slot; windows are merged on demand. Driven by <see cref="TimeProvider"/>.
/// </summary>
internal sealed class RollingStats
{
    /// <summary>Slots kept: 15 minutes of seconds.</summary>
    public const int Slots = 900;
    private const int MaxTiers = 32;

    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, StatsSlot[]> _tiers = new(StringComparer.Ordinal);

    public RollingStats(TimeProvider time) => _time = time;

    /// <summary>Tier names seen so far.</summary>
    public ICollection<string> Tiers => _tiers.Keys;

    public void Record(in RequestSample sample)
    {
        if (!_tiers.TryGetValue(sample.Tier, out var ring))
        {
            // Tier names come from configuration, but cap them anyway so a bug cannot grow memory without bound.
            if (_tiers.Count >= MaxTiers) return;
            ring = _tiers.GetOrAdd(sample.Tier, static _ => CreateRing());
        }
        long second = CurrentSecond();
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

    /// <summary>
    /// Merges <paramref name="seconds"/> seconds of a tier (or of all tiers when null) ending
    /// <paramref name="endSecondsAgo"/> seconds before now; 0 includes the current second.
    /// </summary>
    public WindowSnapshot Snapshot(string? tier, int seconds, int endSecondsAgo = 0)
    {
        seconds = Math.Clamp(seconds, 1, Slots);
        endSecondsAgo = Math.Clamp(endSecondsAgo, 0, Slots - seconds);
        var merged = new WindowAccumulator(seconds);
        long now = CurrentSecond() - endSecondsAgo;
        foreach (var (name, ring) in _tiers)
        {
            if (tier is not null && !string.Equals(name, tier, StringComparison.Ordinal)) continue;
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

    private long CurrentSecond() => _time.GetUtcNow().ToUnixTimeSeconds();

    private static StatsSlot[] CreateRing()
    {
        var ring = new StatsSlot[Slots];
        for (int i = 0; i < ring.Length; i++) ring[i] = new StatsSlot();
        return ring;
    }
}
