namespace Gateway.Observability;

/// <summary>One second of one tier, route class or cluster in <see cref="RollingStats"/>. Counters are updated with Interlocked.</summary>
internal sealed class StatsSlot
{
    public long Second = long.MinValue;
    public readonly long[] Latency = new long[LatencyBuckets.Count];
    public long Requests;
    public long Errors;
    public long OverBudget;
    public long Unauthorized;
    public long RateLimited;
    public long Shed;
    public long ResponseCacheLookups;
    public long ResponseCacheHits;
    public long SessionL1;
    public long SessionL2;
    public long SessionBackend;
    public long SessionNegative;
    public long SessionRejected;

    public void Reset(long second)
    {
        Array.Clear(Latency);
        Requests = Errors = OverBudget = Unauthorized = RateLimited = Shed = ResponseCacheLookups = ResponseCacheHits = 0;
        SessionL1 = SessionL2 = SessionBackend = SessionNegative = SessionRejected = 0;
        Volatile.Write(ref Second, second);
    }
}
