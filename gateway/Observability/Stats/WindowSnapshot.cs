namespace Gateway.Observability;

/// <summary>Merged statistics of a window. Percentiles are in milliseconds; NaN-free (0 when no requests).</summary>
/// <param name="Histogram">Merged counts per <see cref="LatencyBuckets"/> index (the fleet view merges these across instances).</param>
internal sealed record WindowSnapshot(
    int WindowSeconds,
    long Count,
    long Errors,
    long OverBudget,
    double P50Ms,
    double P95Ms,
    double P99Ms,
    long ResponseCacheLookups,
    long ResponseCacheHits,
    long SessionL1,
    long SessionL2,
    long SessionBackend,
    long SessionNegative,
    long SessionRejected,
    long Unauthorized = 0,
    long RateLimited = 0,
    long Shed = 0,
    long[]? Histogram = null)
{
    public double RequestsPerSecond => (double)Count / WindowSeconds;
    public double ErrorRate => Count == 0 ? 0 : (double)Errors / Count;
    /// <summary>Percentage (0-100) of requests within budget; 100 when there were none.</summary>
    public double BudgetCompliancePercent => Count == 0 ? 100 : 100.0 * (Count - OverBudget) / Count;
    public double ResponseCacheHitRatio => ResponseCacheLookups == 0 ? 0 : (double)ResponseCacheHits / ResponseCacheLookups;
    public long SessionValidations => SessionL1 + SessionL2 + SessionBackend + SessionNegative + SessionRejected;
    public double SessionRatio(long part) => SessionValidations == 0 ? 0 : (double)part / SessionValidations;
}

/// <summary>Sums slots, then reads percentiles from the merged histogram.</summary>
internal sealed class WindowAccumulator(int seconds)
{
    private readonly long[] _latency = new long[LatencyBuckets.Count];
    private long _requests, _errors, _over, _unauthorized, _rateLimited, _shed, _rcLookups, _rcHits, _l1, _l2, _backend, _negative, _rejected;

    public void Add(StatsSlot slot)
    {
        for (int i = 0; i < _latency.Length; i++) _latency[i] += Volatile.Read(ref slot.Latency[i]);
        _requests += Volatile.Read(ref slot.Requests);
        _errors += Volatile.Read(ref slot.Errors);
        _over += Volatile.Read(ref slot.OverBudget);
        _unauthorized += Volatile.Read(ref slot.Unauthorized);
        _rateLimited += Volatile.Read(ref slot.RateLimited);
        _shed += Volatile.Read(ref slot.Shed);
        _rcLookups += Volatile.Read(ref slot.ResponseCacheLookups);
        _rcHits += Volatile.Read(ref slot.ResponseCacheHits);
        _l1 += Volatile.Read(ref slot.SessionL1);
        _l2 += Volatile.Read(ref slot.SessionL2);
        _backend += Volatile.Read(ref slot.SessionBackend);
        _negative += Volatile.Read(ref slot.SessionNegative);
        _rejected += Volatile.Read(ref slot.SessionRejected);
    }

    public WindowSnapshot ToSnapshot() => new(seconds, _requests, _errors, _over,
        Percentile(_latency, 0.50), Percentile(_latency, 0.95), Percentile(_latency, 0.99), _rcLookups, _rcHits, _l1, _l2, _backend, _negative, _rejected,
        _unauthorized, _rateLimited, _shed, _latency);

    /// <summary>Nearest-rank percentile of a <see cref="LatencyBuckets"/> histogram: the smallest bucket whose cumulative count reaches ceil(q * total).</summary>
    public static double Percentile(long[] histogram, double q)
    {
        long total = 0;
        foreach (long c in histogram) total += c;
        if (total == 0) return 0;
        long rank = Math.Max(1, (long)Math.Ceiling(q * total));
        long cumulative = 0;
        for (int i = 0; i < histogram.Length; i++)
        {
            cumulative += histogram[i];
            if (cumulative >= rank) return LatencyBuckets.Representative(i);
        }
        return LatencyBuckets.Representative(histogram.Length - 1);
    }
}
