using Gateway.RateLimiting;

namespace Gateway.Tests.RateLimiting;

/// <summary>
/// The Redis-down fallback's token bucket refills at the instance's share of the limit, whatever the share: the batch
/// of tokens per period may be rounded, the rate may not. Until 2026-12-05 the period was fixed at 50 ms and the batch
/// rounded: the shipped 100/s policy on three instances (33/s each) refilled at 40/s, 120/s together.
/// </summary>
public sealed class LocalRefillTests
{
    [Theory]
    [InlineData(100, 3, 1)]       // 33/s: an interval of 30.3 ms, the case that over-admitted
    [InlineData(100, 2, 1)]       // 50/s: under-admitted (40/s)
    [InlineData(100, 4, 1)]       // 25/s: under-admitted (20/s)
    [InlineData(30, 1, 1)]        // 30/s: 1.5 intervals per 50 ms, rounded half to even
    [InlineData(10_000, 1, 1)]    // high limits refill in batches
    [InlineData(5, 1, 60)]        // slow limits refill one token at a time
    public void TheRefillRate_IsTheLimitsRate(int limit, int instances, int windowSeconds)
    {
        int share = Math.Max(1, limit / instances);
        var window = TimeSpan.FromSeconds(windowSeconds);
        var (tokens, period) = LocalRateLimiter.Refill(window, share);

        double perSecond = tokens / period.TotalSeconds;
        double expected = share / window.TotalSeconds;
        Assert.InRange(perSecond, expected * 0.999, expected * 1.001);
        Assert.True(period >= TimeSpan.FromMilliseconds(50) || tokens == 1, $"a {period.TotalMilliseconds} ms timer");
        Assert.True(tokens >= 1);
    }
}
