using System.Collections.Concurrent;
using System.Threading.RateLimiting;

namespace Gateway.RateLimiting;

/// <summary>
/// The per-instance fallback while Redis is unavailable: the same algorithm with <c>limit / instanceCount</c>
/// (at least 1), so N instances together stay near the configured limit. One limiter per rule's parameters (name,
/// algorithm, limit, window, burst, partition; not the record itself, whose equality includes its lazily formatted
/// header), not per name: the login devices' rule shares its policy's
/// name with five times its limit, and whichever of the two came first served both in every later outage; a reload that
/// changed a policy's limit kept the first parameters too.
/// </summary>
internal sealed class LocalRateLimiter : IDisposable
{
    private static readonly TimeSpan MinReplenishmentPeriod = TimeSpan.FromMilliseconds(50);
    private readonly int _instanceCount;
    private readonly ConcurrentDictionary<(string, RateLimitAlgorithm, int, TimeSpan, int?, RateLimitPartition), PartitionedRateLimiter<string>> _byRule = new();

    public LocalRateLimiter(int instanceCount) => _instanceCount = instanceCount;

    public RateLimitDecision Acquire(RateLimitRule rule, string partition)
    {
        var limiter = _byRule.GetOrAdd((rule.Name, rule.Algorithm, rule.Limit, rule.Window, rule.Burst, rule.Partition),
            static (_, s) => s.Self.Create(s.Rule), (Self: this, Rule: rule));
        using var lease = limiter.AttemptAcquire(partition);
        int remaining = (int)(limiter.GetStatistics(partition)?.CurrentAvailablePermits ?? 0);
        if (lease.IsAcquired) return new RateLimitDecision(true, remaining, rule.Window, TimeSpan.Zero, Local: true);
        var retry = lease.TryGetMetadata(MetadataName.RetryAfter, out var ra) ? ra : rule.Window;
        return new RateLimitDecision(false, 0, rule.Window, retry, Local: true);
    }

    private PartitionedRateLimiter<string> Create(RateLimitRule rule)
    {
        int limit = Math.Max(1, rule.Limit / _instanceCount);
        if (rule.Algorithm == RateLimitAlgorithm.TokenBucket)
        {
            int burst = Math.Max(1, (rule.Burst ?? rule.Limit) / _instanceCount);
            var (tokensPerPeriod, period) = Refill(rule.Window, limit);
            return PartitionedRateLimiter.Create<string, string>(key => System.Threading.RateLimiting.RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
            {
                // The bucket must hold one period's tokens, or the batch would be cut to the burst and the rate with it.
                TokenLimit = Math.Max(burst, tokensPerPeriod), TokensPerPeriod = tokensPerPeriod, ReplenishmentPeriod = period, QueueLimit = 0, AutoReplenishment = true,
            }));
        }
        return PartitionedRateLimiter.Create<string, string>(key => System.Threading.RateLimiting.RateLimitPartition.GetSlidingWindowLimiter(key, _ => new SlidingWindowRateLimiterOptions
        {
            // Four segments when a quarter of the window is whole milliseconds (the replenishment timer's unit), else one.
            PermitLimit = limit, Window = rule.Window, SegmentsPerWindow = (long)rule.Window.TotalMilliseconds % 4 == 0 ? 4 : 1,
            QueueLimit = 0, AutoReplenishment = true,
        }));
    }

    /// <summary>
    /// One token per emission interval (window / limit), but never a replenishment timer faster than 50 ms: a high limit
    /// (say 10,000/s) adds its tokens in batches. The batch is a whole number of intervals and the period exactly that
    /// many intervals, so the rate is the limit's. (Until 2026-12-05 the period was fixed at 50 ms and the batch rounded:
    /// 33/s per instance, an interval of 30.3 ms, refilled 2 tokens per 50 ms, 40/s, and three instances admitted 120/s
    /// of a 100/s policy while Redis was down.)
    /// </summary>
    internal static (int TokensPerPeriod, TimeSpan Period) Refill(TimeSpan window, int limit)
    {
        double interval = window.Ticks / (double)limit;
        int tokensPerPeriod = (int)Math.Max(1, Math.Ceiling(MinReplenishmentPeriod.Ticks / interval - 1e-9));
        return (tokensPerPeriod, TimeSpan.FromTicks((long)Math.Round(tokensPerPeriod * interval)));
    }

    public void Dispose()
    {
        foreach (var limiter in _byRule.Values) limiter.Dispose();
    }
}
