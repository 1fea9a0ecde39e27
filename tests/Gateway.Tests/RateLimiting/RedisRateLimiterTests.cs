using Gateway.RateLimiting;
using Gateway.Redis;
using Gateway.Tests.PolicyTesting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TestInfrastructure;

namespace Gateway.Tests.RateLimiting;

public sealed class RedisRateLimiterTests(RedisFixture redis) : IAsyncLifetime
{
    private RedisClient _client = null!;
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);

    public async ValueTask InitializeAsync() => _client = await TestRedis.ConnectAsync(redis.ConnectionString, timeoutMs: 1000);
    public ValueTask DisposeAsync() => _client.DisposeAsync();

    private RedisRateLimiter Limiter(IRedisClient client, int instanceCount = 1) => new(client,
        Options.Create(new RateLimitingOptions { InstanceCount = instanceCount }), _clock, NullLogger<RedisRateLimiter>.Instance);

    private static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task SlidingWindow_AllowsLimit_ThenRejectsWithRetryAfter_AndRemainingCountsDown()
    {
        var rule = new RateLimitRule(Unique("sw"), RateLimitAlgorithm.SlidingWindow, 3, TimeSpan.FromHours(1), null, RateLimitPartition.Ip);
        using var limiter = Limiter(_client);
        var remaining = new List<int>();
        for (int i = 0; i < 3; i++)
        {
            var d = await limiter.AcquireAsync(rule, "ip:1.2.3.4");
            Assert.True(d.Allowed);
            Assert.False(d.Local);
            remaining.Add(d.Remaining);
        }
        Assert.Equal([2, 1, 0], remaining);
        var rejected = await limiter.AcquireAsync(rule, "ip:1.2.3.4");
        Assert.False(rejected.Allowed);
        Assert.True(rejected.RetryAfter > TimeSpan.Zero);
        Assert.True((await limiter.AcquireAsync(rule, "ip:5.6.7.8")).Allowed);
    }

    /// <summary>
    /// Two instances on one key, one clock three windows behind the other. Each deleted the buckets older than its own
    /// previous window, so the one ahead deleted the lagging one's current bucket on every call, and the lagging one
    /// was granted afresh each time: unbounded. The lagging one now counts in the newest window the key holds.
    /// </summary>
    [Fact]
    public async Task SlidingWindow_TwoInstancesWithClocksWindowsApart_TogetherAdmitNoMoreThanTheLimit()
    {
        var rule = new RateLimitRule(Unique("sw-skew"), RateLimitAlgorithm.SlidingWindow, 10, TimeSpan.FromHours(1), null, RateLimitPartition.Ip);
        var ahead = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var behind = new FakeTimeProvider(ahead.GetUtcNow() - TimeSpan.FromHours(3));
        using var a = new RedisRateLimiter(_client, Options.Create(new RateLimitingOptions()), ahead, NullLogger<RedisRateLimiter>.Instance);
        using var b = new RedisRateLimiter(_client, Options.Create(new RateLimitingOptions()), behind, NullLogger<RedisRateLimiter>.Instance);

        int admitted = 0;
        for (int i = 0; i < 40; i++)
        {
            var d = await (i % 2 == 0 ? a : b).AcquireAsync(rule, "ip:1.2.3.4");
            Assert.False(d.Local, "answered by Redis");
            if (d.Allowed) admitted++;
        }

        Assert.Equal(10, admitted);
    }

    [Fact]
    public async Task TokenBucket_AllowsBurst_ThenOneTokenPerInterval()
    {
        var rule = new RateLimitRule(Unique("tb"), RateLimitAlgorithm.TokenBucket, 10, TimeSpan.FromSeconds(10), 3, RateLimitPartition.User);
        using var limiter = Limiter(_client);
        for (int i = 0; i < 3; i++) Assert.True((await limiter.AcquireAsync(rule, "user:u1")).Allowed);
        var rejected = await limiter.AcquireAsync(rule, "user:u1");
        Assert.False(rejected.Allowed);
        Assert.InRange(rejected.RetryAfter.TotalMilliseconds, 1, 1000);

        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True((await limiter.AcquireAsync(rule, "user:u1")).Allowed);
        Assert.False((await limiter.AcquireAsync(rule, "user:u1")).Allowed);
    }

    /// <summary>
    /// Found by the 30-minute soak: the emission interval was clamped to 1 ms, so any token bucket above 1,000 per second
    /// refilled at 1,000 per second and a client well under its limit was rejected once the burst drained.
    /// </summary>
    [Fact]
    public async Task TokenBucket_AboveAThousandPerSecond_RefillsAtTheConfiguredRate()
    {
        var rule = new RateLimitRule(Unique("tb-fast"), RateLimitAlgorithm.TokenBucket, 100_000, TimeSpan.FromSeconds(1), 50, RateLimitPartition.User);
        // Frozen time: at 10 µs per token, real time passing between calls would refill the bucket by itself.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var limiter = new RedisRateLimiter(_client, Options.Create(new RateLimitingOptions()), clock, NullLogger<RedisRateLimiter>.Instance);
        // On a loaded machine a Redis call can miss its time-box and the local fallback answers: ask again once Redis is
        // back, so the assertions are about the Redis script.
        async Task<RateLimitDecision> Ask()
        {
            for (int attempt = 0; ; attempt++)
            {
                var d = await limiter.AcquireAsync(rule, "user:u1");
                if (!d.Local || attempt == 40) return d;
                await Task.Delay(250);
            }
        }
        for (int i = 0; i < 50; i++) Assert.True((await Ask()).Allowed);
        var over = await Ask();
        Assert.False(over.Local);
        Assert.False(over.Allowed);

        // 100,000/s is one token per 10 µs: 0.2 ms refills 20 tokens (the clamp gave none).
        clock.Advance(TimeSpan.FromMilliseconds(0.2));
        int allowed = 0;
        for (int i = 0; i < 30; i++) if ((await Ask()).Allowed) allowed++;
        Assert.Equal(20, allowed);

        // A second at the configured rate never drains the bucket: 100,000 tokens refilled, 50,000 asked for.
        for (int second = 0; second < 3; second++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            var d = await Ask();
            Assert.True(d.Allowed);
            Assert.Equal(49, d.Remaining);
        }
    }

    [Fact]
    public void LocalFallback_TokenBucketAboveAThousandPerSecond_IsNotCappedByItsTimer()
    {
        var rule = new RateLimitRule(Unique("tb-local"), RateLimitAlgorithm.TokenBucket, 100_000, TimeSpan.FromSeconds(1), 10, RateLimitPartition.User);
        using var local = new LocalRateLimiter(instanceCount: 1);
        // 100,000/s refilled every 50 ms is 5,000 tokens a batch, so the bucket holds 5,000 and starts full: all of
        // 5,000 back-to-back requests pass. One token per 1 ms timer tick (the old floor) let through about 10.
        int allowed = 0;
        for (int i = 0; i < 5_000; i++) if (local.Acquire(rule, "user:u1").Allowed) allowed++;
        Assert.Equal(5_000, allowed);
    }

    [Fact]
    public void LocalFallback_TwoRulesOfOneName_EachKeepTheirOwnLimit()
    {
        // The login devices' rule shares its policy's name with five times the limit; a reload changes a rule under its
        // name. Cached by name, whichever rule came first served both for the process's lifetime.
        var devices = new RateLimitRule("login", RateLimitAlgorithm.SlidingWindow, 50, TimeSpan.FromMinutes(1), null, RateLimitPartition.IpAndAccount);
        var login = devices with { Limit = 10 };
        using var local = new LocalRateLimiter(instanceCount: 1);
        Assert.True(local.Acquire(devices, "devs:a").Allowed);
        int allowed = 0;
        for (int i = 0; i < 30; i++) if (local.Acquire(login, "ip:10.0.0.1").Allowed) allowed++;
        Assert.Equal(10, allowed);
    }

    [Fact]
    public async Task TwoInstancesSharingRedis_EnforceOneLimitTogether()
    {
        await using var second = await TestRedis.ConnectAsync(redis.ConnectionString, timeoutMs: 1000);
        var rule = new RateLimitRule(Unique("shared"), RateLimitAlgorithm.SlidingWindow, 10, TimeSpan.FromHours(1), null, RateLimitPartition.User);
        using var a = Limiter(_client, instanceCount: 2);
        using var b = Limiter(second, instanceCount: 2);
        int allowed = 0;
        for (int i = 0; i < 15; i++)
        {
            if ((await a.AcquireAsync(rule, "user:u")).Allowed) allowed++;
            if ((await b.AcquireAsync(rule, "user:u")).Allowed) allowed++;
        }
        Assert.Equal(10, allowed);
    }

    [Fact]
    public async Task RedisKilled_FallsBackToLocalLimitDividedByInstances_ThenDistributedAgainWhenBack()
    {
        var server = await RedisServer.StartAsync();
        try
        {
            await using var client = await TestRedis.ConnectAsync(server.ConnectionString);
            var rule = new RateLimitRule(Unique("fb"), RateLimitAlgorithm.SlidingWindow, 10, TimeSpan.FromHours(1), null, RateLimitPartition.Ip);
            using var limiter = Limiter(client, instanceCount: 2);
            Assert.True((await limiter.AcquireAsync(rule, "ip:a")).Allowed);

            await server.StopAsync();
            int allowed = 0;
            for (int i = 0; i < 10; i++)
            {
                var d = await limiter.AcquireAsync(rule, "ip:a");
                Assert.True(d.Local);
                if (d.Allowed) allowed++;
            }
            Assert.Equal(5, allowed);
            Assert.True(limiter.InFallback);

            await server.StartAsync();
            await Poll.UntilAsync(() => client.IsAvailable, "the Redis client sees Redis again");
            var back = await limiter.AcquireAsync(rule, "ip:b");
            Assert.False(back.Local);
            Assert.False(limiter.InFallback);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }
}
