using System.Diagnostics.Metrics;
using Gateway.RateLimiting;
using Gateway.Redis;
using Gateway.Tests.Observability;
using Gateway.Tests.PolicyTesting;
using Gateway.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TestInfrastructure;

namespace Gateway.Tests.RateLimiting;

/// <summary>
/// Leases: instances take tokens from the shared counter in batches and admit from them locally. Time is a
/// <see cref="FakeTimeProvider"/> that moves only when the test says so, so nothing depends on how fast the machine is.
/// </summary>
public sealed class RateLimitLeaseTests(RedisFixture redis) : IAsyncLifetime
{
    private RedisClient _client = null!;
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero));

    // A generous time-box: a fallback decision (Redis slow on a loaded machine) is not what these tests are about.
    public async ValueTask InitializeAsync() => _client = await TestRedis.ConnectAsync(redis.ConnectionString, timeoutMs: 5000);
    public ValueTask DisposeAsync() => _client.DisposeAsync();

    private RedisRateLimiter Limiter(IRedisClient client, Action<RateLimitingOptions>? configure = null)
    {
        var options = new RateLimitingOptions { InstanceCount = 4 };
        configure?.Invoke(options);
        return new RedisRateLimiter(client, Options.Create(options), _clock, NullLogger<RedisRateLimiter>.Instance);
    }

    private static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N");

    private long NowUs => (_clock.GetUtcNow() - RateLimitScripts.GcraEpoch).Ticks / 10;

    /// <summary>
    /// Four instances, two concurrent requests each every 250 µs (32 times the limit), for 1.5 s. Token bucket 1,000/s,
    /// burst 200: in any interval [a, b] a GCRA admits at most burst + floor((b − a) / interval), and so must the four
    /// together. Each instance can end holding at most one lease (cap 25) and the bucket can hold at most one batch that a
    /// blocked instance waits for, so together they admit at least burst + T / interval − 5 × 25 − 4.
    /// </summary>
    [Fact]
    public async Task TokenBucket_FourInstancesAtManyTimesTheLimit_AdmitNoMoreThanTheBucketInAnyInterval_AndNearlyAllOfIt()
    {
        var rule = new RateLimitRule(Unique("tb-lease"), RateLimitAlgorithm.TokenBucket, 1000, TimeSpan.FromSeconds(1), 200, RateLimitPartition.User);
        var counting = new CountingRedisClient(_client);
        var limiters = Enumerable.Range(0, 4).Select(_ => Limiter(counting)).ToArray();
        var admitted = new List<long>();
        var step = TimeSpan.FromMicroseconds(250);
        int steps = 6000, requests = 0;
        for (int s = 0; s < steps; s++)
        {
            long now = NowUs;
            var decisions = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => limiters[i % 4].AcquireAsync(rule, "user:u").AsTask()));
            requests += decisions.Length;
            foreach (var d in decisions)
            {
                Assert.False(d.Local);
                if (d.Allowed) admitted.Add(now);
                else Assert.True(d.RetryAfter > TimeSpan.Zero);
            }
            _clock.Advance(step);
        }
        foreach (var l in limiters) l.Dispose();

        AssertGcraConforming(admitted, burst: 200, intervalUs: 1000);
        Report($"token bucket, 4 instances: {admitted.Count} admitted, {counting.Evaluations} Redis calls, {requests} decisions");
        long elapsedUs = (long)(steps * step.TotalMicroseconds);
        int ideal = 200 + (int)(elapsedUs / 1000);
        Assert.InRange(admitted.Count, ideal - 5 * 25 - 4, ideal);
        Assert.True(counting.Evaluations <= requests / 20, $"{counting.Evaluations} Redis calls for {requests} decisions");
    }

    /// <summary>
    /// The shipped per-user shape (100/s, burst 200) with four instances each below the limit (a request every 16 ms, 62 %)
    /// but together at 250 % of it, for 10 s: their leases start ahead of the TAT (each instance is slower than the
    /// emission interval) and still never break the GCRA bound; together they get the bucket's 200 + 10 s × 100 less at
    /// most what four instances can hold back or hold in hand (two caps of 12 each) and one batch being waited for.
    /// </summary>
    [Fact]
    public async Task TokenBucket_FourInstancesEachBelowTheLimitTogetherAbove_StayExact_AndLoseAtMostTheirLeases()
    {
        var rule = new RateLimitRule(Unique("tb-spread"), RateLimitAlgorithm.TokenBucket, 100, TimeSpan.FromSeconds(1), 200, RateLimitPartition.User);
        var counting = new CountingRedisClient(_client);
        var limiters = Enumerable.Range(0, 4).Select(_ => Limiter(counting)).ToArray();
        var admitted = new List<long>();
        int requests = 0;
        for (int ms = 0; ms < 10_000; ms++)
        {
            for (int i = 0; i < 4; i++)
            {
                if ((ms + 4 * i) % 16 != 0) continue;
                var d = await limiters[i].AcquireAsync(rule, "user:spread");
                requests++;
                Assert.False(d.Local);
                if (d.Allowed) admitted.Add(NowUs);
            }
            _clock.Advance(TimeSpan.FromMilliseconds(1));
        }
        foreach (var l in limiters) l.Dispose();

        AssertGcraConforming(admitted, burst: 200, intervalUs: 10_000);
        Report($"token bucket, 4 instances at 62 % each: {admitted.Count} admitted of {requests}, {counting.Evaluations} Redis calls");
        Assert.InRange(admitted.Count, 1200 - 4 * 2 * 12 - 12, 1200);
        // Contending instances each wait for a batch and often find part of it taken: leases save less than for one
        // busy instance (about 0.28 calls per decision here, against 1 without leases).
        Assert.True(counting.Evaluations <= requests / 3, $"{counting.Evaluations} Redis calls for {requests} decisions");
    }

    /// <summary>A single busy instance gets the whole bucket, less at most the lease it still holds at the end.</summary>
    [Fact]
    public async Task TokenBucket_OneBusyInstance_GetsTheFullLimitLessAtMostOneLease()
    {
        var rule = new RateLimitRule(Unique("tb-one"), RateLimitAlgorithm.TokenBucket, 100, TimeSpan.FromSeconds(1), 200, RateLimitPartition.User);
        using var limiter = Limiter(_client);
        var admitted = new List<long>();
        for (int s = 0; s < 4000; s++) // 1 ms apart for 4 s: ten times the limit
        {
            var d = await limiter.AcquireAsync(rule, "user:busy");
            Assert.False(d.Local);
            if (d.Allowed) admitted.Add(NowUs);
            _clock.Advance(TimeSpan.FromMilliseconds(1));
        }
        AssertGcraConforming(admitted, burst: 200, intervalUs: 10_000);
        Report($"token bucket, 1 instance: {admitted.Count} admitted");
        // The bucket: 200 at once, then one per 10 ms over 4 s. The cap is min(100, 200) / 8 = 12.
        Assert.InRange(admitted.Count, 200 + 400 - 2 * 12, 200 + 400);
    }

    /// <summary>
    /// Sliding window 400 per second, four instances at many times the limit, for 3 s. Every admission must satisfy the
    /// sliding estimate counted from admissions alone: previous window × unelapsed fraction + current (including it) ≤ limit.
    /// Leasing across a window edge (tokens counted in one window, used in the next) would break it.
    /// </summary>
    [Fact]
    public async Task SlidingWindow_FourInstancesAtManyTimesTheLimit_NeverExceedTheSlidingEstimate()
    {
        var rule = new RateLimitRule(Unique("sw-lease"), RateLimitAlgorithm.SlidingWindow, 400, TimeSpan.FromSeconds(1), null, RateLimitPartition.Ip);
        var counting = new CountingRedisClient(_client);
        var limiters = Enumerable.Range(0, 4).Select(_ => Limiter(counting)).ToArray();
        var admittedMs = new List<long>();
        int requests = 0;
        for (int s = 0; s < 1500; s++) // every 2 ms
        {
            long nowMs = _clock.GetUtcNow().ToUnixTimeMilliseconds();
            var decisions = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => limiters[i % 4].AcquireAsync(rule, "ip:203.0.113.9").AsTask()));
            requests += decisions.Length;
            foreach (var d in decisions)
            {
                Assert.False(d.Local);
                if (d.Allowed) admittedMs.Add(nowMs);
            }
            _clock.Advance(TimeSpan.FromMilliseconds(2));
        }
        foreach (var l in limiters) l.Dispose();

        AssertSlidingEstimateHolds(admittedMs, limit: 400, window: 1000);
        Report($"sliding window, 4 instances: {admittedMs.Count} admitted, {counting.Evaluations} Redis calls, {requests} decisions");
        // Three windows at saturation: at least the first window's limit was used, and leases saved most calls.
        Assert.True(admittedMs.Count >= 400, $"{admittedMs.Count} admitted");
        Assert.True(counting.Evaluations <= requests / 10, $"{counting.Evaluations} Redis calls for {requests} decisions");
    }

    /// <summary>
    /// Instance A grows its lease to the cap and goes quiet holding 24 tokens; a second later the bucket is full again and
    /// instance B takes all of it at once. A's tokens stood for TATs a second in the past: spending them now would admit
    /// 224 requests in one instant of a bucket of 200. They must be skipped, so A is refused instead.
    /// </summary>
    [Fact]
    public async Task TokenBucket_InstanceThatWentQuiet_NeverSpendsItsStaleTokens()
    {
        var rule = new RateLimitRule(Unique("tb-stale"), RateLimitAlgorithm.TokenBucket, 1000, TimeSpan.FromSeconds(1), 200, RateLimitPartition.User);
        using var a = Limiter(_client);
        using var b = Limiter(_client);
        var admitted = new List<long>();
        // Leases of 1, 2, 4, 8, 16, then the 32nd request takes a lease of 25 (the cap) and keeps 24.
        for (int i = 0; i < 32; i++) Assert.True((await a.AcquireAsync(rule, "user:u")).Allowed);
        for (int i = 0; i < 32; i++) admitted.Add(NowUs);

        _clock.Advance(TimeSpan.FromSeconds(1));
        int atOnce = 0;
        for (int i = 0; i < 250; i++)
            if ((await b.AcquireAsync(rule, "user:u")).Allowed) { atOnce++; admitted.Add(NowUs); }
        for (int i = 0; i < 24; i++)
            if ((await a.AcquireAsync(rule, "user:u")).Allowed) { atOnce++; admitted.Add(NowUs); }

        Assert.Equal(200, atOnce);
        AssertGcraConforming(admitted, burst: 200, intervalUs: 1000);
    }

    /// <summary>
    /// Sliding window 400/s: instance A takes a lease of 50 a millisecond before the window ends and keeps 49. In the next
    /// window instance B takes everything the estimate allows; A's 49 were counted in the old window and must not be spent
    /// in the new one (the estimate would exceed 400).
    /// </summary>
    [Fact]
    public async Task SlidingWindow_InstanceHoldingTokensAtTheWindowEnd_NeverSpendsThemInTheNextWindow()
    {
        var rule = new RateLimitRule(Unique("sw-stale"), RateLimitAlgorithm.SlidingWindow, 400, TimeSpan.FromSeconds(1), null, RateLimitPartition.Ip);
        using var a = Limiter(_client);
        using var b = Limiter(_client);
        // Start 1 ms before a window edge.
        long ms = _clock.GetUtcNow().ToUnixTimeMilliseconds();
        _clock.Advance(TimeSpan.FromMilliseconds(1000 - ms % 1000 - 1));
        var admittedMs = new List<long>();
        // Leases of 1, 2, 4, 8, 16, 32, then the 64th request takes a lease of 50 (the cap) and keeps 49.
        for (int i = 0; i < 64; i++)
            if ((await a.AcquireAsync(rule, "ip:x")).Allowed) admittedMs.Add(_clock.GetUtcNow().ToUnixTimeMilliseconds());
        Assert.Equal(64, admittedMs.Count);

        _clock.Advance(TimeSpan.FromMilliseconds(998));
        for (int i = 0; i < 450; i++)
            if ((await b.AcquireAsync(rule, "ip:x")).Allowed) admittedMs.Add(_clock.GetUtcNow().ToUnixTimeMilliseconds());
        for (int i = 0; i < 49; i++)
            if ((await a.AcquireAsync(rule, "ip:x")).Allowed) admittedMs.Add(_clock.GetUtcNow().ToUnixTimeMilliseconds());

        AssertSlidingEstimateHolds(admittedMs, limit: 400, window: 1000);
    }

    /// <summary>
    /// The shipped per-user shape (100/s, burst 200): 1,000 requests of one user at twice, exactly and 80 % of the limit
    /// cost at most a quarter of a call each, while a user sending one request a second still pays exactly one call per request.
    /// </summary>
    [Theory]
    [InlineData(5.0)]
    [InlineData(10.0)]
    [InlineData(12.5)]
    public async Task BusyPartition_CostsFarFewerCallsThanRequests(double gapMs)
    {
        var rule = new RateLimitRule(Unique("per-user"), RateLimitAlgorithm.TokenBucket, 100, TimeSpan.FromSeconds(1), 200, RateLimitPartition.User);
        var counting = new CountingRedisClient(_client);
        using var limiter = Limiter(counting);
        using var metered = new MeteredLeases(rule.Name);
        const int n = 1000;
        int allowed = 0;
        for (int i = 0; i < n; i++)
        {
            var d = await limiter.AcquireAsync(rule, "user:busy");
            Assert.False(d.Local);
            if (d.Allowed) allowed++;
            _clock.Advance(TimeSpan.FromMilliseconds(gapMs));
        }
        Report($"one per {gapMs} ms: {allowed} allowed, {counting.Evaluations} Redis calls for {n} requests");
        Assert.True(counting.Evaluations <= n / 4, $"{counting.Evaluations} Redis calls for {n} requests at one per {gapMs} ms");
        Assert.Equal(counting.Evaluations, metered.Count); // the counter an operator sees is the calls made
        // At or under the limit nothing is refused; at twice the limit the bucket decides (200 + 10 s × 100, of 1,000).
        if (gapMs >= 10) Assert.Equal(n, allowed);
        else Assert.InRange(allowed, 700 - 2 * 12, 700);
    }

    [Fact]
    public async Task QuietPartition_PaysOneCallPerRequest_AndWastesNothing()
    {
        var rule = new RateLimitRule(Unique("quiet"), RateLimitAlgorithm.TokenBucket, 100, TimeSpan.FromSeconds(1), 200, RateLimitPartition.User);
        var counting = new CountingRedisClient(_client);
        using var limiter = Limiter(counting);
        for (int i = 0; i < 20; i++)
        {
            var d = await limiter.AcquireAsync(rule, "user:quiet");
            Assert.True(d.Allowed);
            Assert.Equal(199, d.Remaining); // a lease of one token, as before leases: the bucket refilled in between
            Assert.Equal(i + 1, counting.Evaluations);
            _clock.Advance(TimeSpan.FromSeconds(1));
        }
    }

    [Fact]
    public async Task Remaining_CountsDownByOnePerRequestAcrossLeases_AndRejectionsAreRepeatedLocallyWithRetryAfter()
    {
        var rule = new RateLimitRule(Unique("countdown"), RateLimitAlgorithm.TokenBucket, 100, TimeSpan.FromSeconds(1), 200, RateLimitPartition.User);
        var counting = new CountingRedisClient(_client);
        using var limiter = Limiter(counting);
        for (int i = 0; i < 200; i++)
        {
            var d = await limiter.AcquireAsync(rule, "user:u");
            Assert.True(d.Allowed);
            Assert.Equal(199 - i, d.Remaining);
        }
        var rejected = await limiter.AcquireAsync(rule, "user:u");
        Assert.False(rejected.Allowed);
        Assert.Equal(0, rejected.Remaining);
        int calls = counting.Evaluations;
        for (int i = 0; i < 50; i++)
        {
            var again = await limiter.AcquireAsync(rule, "user:u");
            Assert.False(again.Allowed);
            Assert.Equal(rejected.RetryAfter, again.RetryAfter);
        }
        Assert.Equal(calls, counting.Evaluations);
        Assert.True(calls <= 200 / 4, $"{calls} calls for 200 admissions");

        // The rejection holds until a batch fits (at most the 12-token cap at 10 ms each), then Redis is asked again.
        Assert.InRange(rejected.RetryAfter, TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(120));
        _clock.Advance(rejected.RetryAfter);
        Assert.True((await limiter.AcquireAsync(rule, "user:u")).Allowed);
        Assert.Equal(calls + 1, counting.Evaluations);
    }

    [Fact]
    public async Task DecisionsFromALease_CompleteSynchronously_WithoutAllocating()
    {
        var rule = new RateLimitRule(Unique("alloc"), RateLimitAlgorithm.TokenBucket, 1000, TimeSpan.FromSeconds(1), 1000, RateLimitPartition.User);
        using var limiter = Limiter(_client);
        const string partition = "user:alloc";
        // Leases of 1, 2, 4, 8, 16, 32, 64, 125: the 128th request leaves 124 tokens in hand.
        for (int i = 0; i < 128; i++) Assert.True((await limiter.AcquireAsync(rule, partition)).Allowed);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            var pending = limiter.AcquireAsync(rule, partition);
            Assert.True(pending.IsCompletedSuccessfully);
#pragma warning disable xUnit1031 // completed (asserted above): reading the result does not block, and awaiting is what we measure without
            Assert.True(pending.Result.Allowed);
#pragma warning restore xUnit1031
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    /// <summary>
    /// The middleware formats partitions on the stack: such a key must find the lease its string made (and make one a
    /// string then finds), count down the same tokens, and decide from a lease without allocating.
    /// </summary>
    [Fact]
    public async Task APartitionFormattedOnTheStack_SharesTheLeaseOfItsString_AndDecidesWithoutAllocating()
    {
        var rule = new RateLimitRule(Unique("span"), RateLimitAlgorithm.TokenBucket, 100, TimeSpan.FromSeconds(1), 200, RateLimitPartition.User);
        var counting = new CountingRedisClient(_client);
        using var limiter = Limiter(counting);
        char[] first = "user:first".ToCharArray(), second = "user:second".ToCharArray();   // not the interned strings
        for (int i = 0; i < 200; i++)
        {
            var d = i % 2 == 0 ? await limiter.AcquireAsync(rule, "user:first") : await BySpan(limiter, rule, first);
            Assert.True(d.Allowed);
            Assert.Equal(199 - i, d.Remaining);
        }
        Assert.False((await BySpan(limiter, rule, first)).Allowed);
        Assert.True(counting.Evaluations <= 200 / 4, $"{counting.Evaluations} calls for 200 admissions");

        // First seen as a span: leased through Redis, then found by its string.
        Assert.Equal(199, (await BySpan(limiter, rule, second)).Remaining);
        Assert.Equal(198, (await limiter.AcquireAsync(rule, "user:second")).Remaining);

        // As DecisionsFromALease_CompleteSynchronously_WithoutAllocating: leases of 1, 2, 4, ... 125 leave 124 in hand.
        var wide = new RateLimitRule(Unique("span-alloc"), RateLimitAlgorithm.TokenBucket, 1000, TimeSpan.FromSeconds(1), 1000, RateLimitPartition.User);
        for (int i = 0; i < 128; i++) Assert.True((await BySpan(limiter, wide, second)).Allowed);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) Assert.True(BySpan(limiter, wide, second).IsCompletedSuccessfully);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ARequestAlreadyGone_MakesNoRedisCall_WithLeasesOrWithout(bool leasing)
    {
        var rule = new RateLimitRule(Unique("gone"), RateLimitAlgorithm.TokenBucket, 100, TimeSpan.FromSeconds(1), 100, RateLimitPartition.User);
        var counting = new CountingRedisClient(_client);
        using var limiter = Limiter(counting, o => o.Leasing = leasing);
        using var gone = new CancellationTokenSource();
        gone.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await limiter.AcquireAsync(rule, "user:gone", gone.Token));
        Assert.Equal(0, counting.Evaluations);
        // The next request of the partition is served as usual.
        Assert.True((await limiter.AcquireAsync(rule, "user:gone")).Allowed);
        Assert.Equal(1, counting.Evaluations);
    }

    private static ValueTask<RateLimitDecision> BySpan(RedisRateLimiter limiter, RateLimitRule rule, char[] key) =>
        limiter.AcquireAsync(rule, key.AsSpan());

    [Fact]
    public async Task LeaseTable_IsBounded_FullTablePaysOneCallPerRequest_ExpiredEntriesAreSwept()
    {
        var rule = new RateLimitRule(Unique("bounded"), RateLimitAlgorithm.TokenBucket, 100, TimeSpan.FromSeconds(1), 200, RateLimitPartition.User);
        var counting = new CountingRedisClient(_client);
        using var limiter = Limiter(counting, o => o.MaxLeasedPartitions = 10);
        for (int u = 0; u < 10; u++) Assert.True((await limiter.AcquireAsync(rule, "user:" + u)).Allowed);
        Assert.Equal(10, limiter.LeasedPartitions);

        int before = counting.Evaluations;
        for (int i = 0; i < 5; i++) Assert.True((await limiter.AcquireAsync(rule, "user:extra")).Allowed);
        Assert.Equal(before + 5, counting.Evaluations);
        Assert.Equal(10, limiter.LeasedPartitions);

        _clock.Advance(TimeSpan.FromSeconds(11));
        Assert.True((await limiter.AcquireAsync(rule, "user:late")).Allowed);
        Assert.Equal(1, limiter.LeasedPartitions);
    }

    [Fact]
    public async Task LeasingOff_IsOneCallPerRequest()
    {
        var rule = new RateLimitRule(Unique("off"), RateLimitAlgorithm.TokenBucket, 100, TimeSpan.FromSeconds(1), 200, RateLimitPartition.User);
        var counting = new CountingRedisClient(_client);
        using var limiter = Limiter(counting, o => o.Leasing = false);
        for (int i = 0; i < 30; i++) Assert.Equal(199 - i, (await limiter.AcquireAsync(rule, "user:u")).Remaining);
        Assert.Equal(30, counting.Evaluations);
    }

    private static void Report(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);

    /// <summary>Every pair of admissions: no more between them than a GCRA allows (burst + elapsed / interval).</summary>
    private static void AssertGcraConforming(List<long> admittedUs, int burst, long intervalUs)
    {
        for (int i = 0; i < admittedUs.Count; i++)
            for (int j = i; j < admittedUs.Count; j++)
            {
                long allowed = burst + (admittedUs[j] - admittedUs[i]) / intervalUs;
                Assert.True(j - i + 1 <= allowed,
                    $"{j - i + 1} admitted between {admittedUs[i]} and {admittedUs[j]} µs; the bucket allows {allowed}");
            }
    }

    /// <summary>
    /// At every admission (in time order), counting admissions only: previous window × unelapsed fraction + current
    /// window including this one ≤ limit, the check the sliding-window script makes with its counters.
    /// </summary>
    private static void AssertSlidingEstimateHolds(List<long> admittedMs, int limit, long window)
    {
        var perWindow = new Dictionary<long, int>();
        foreach (long t in admittedMs)
        {
            long cur = t / window;
            perWindow[cur] = perWindow.GetValueOrDefault(cur) + 1;
            double estimate = perWindow.GetValueOrDefault(cur - 1) * (window - (t - cur * window)) / (double)window + perWindow[cur];
            Assert.True(estimate <= limit, $"sliding estimate {estimate:F1} > {limit} at {t}");
        }
    }

    /// <summary>Sums <c>gateway.ratelimit.leases</c> for one policy (other tests' limiters publish on the same meter).</summary>
    private sealed class MeteredLeases : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _count;
        public int Count => (int)Interlocked.Read(ref _count);
        public void Dispose() => _listener.Dispose();

        public MeteredLeases(string policy)
        {
            _listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Name == "gateway.ratelimit.leases") l.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                foreach (var tag in tags)
                    if (tag.Key == "policy" && (string?)tag.Value == policy) Interlocked.Add(ref _count, value);
            });
            _listener.Start();
        }
    }

    /// <summary>
    /// A reload that lowers a policy's limit (same algorithm) applies at once: tokens an instance leased under the old
    /// limit are not spent under the new one. Until 2026-12-05 only an algorithm change dropped leases, and a busy
    /// partition kept spending the up to 99 tokens it held for the rest of the window.
    /// </summary>
    [Fact]
    public async Task AReloadThatLowersTheLimit_DoesNotSpendTokensLeasedUnderTheOldOne()
    {
        var before = new RateLimitRule(Unique("reload-down"), RateLimitAlgorithm.SlidingWindow, 800, TimeSpan.FromHours(1), null, RateLimitPartition.Ip);
        using var limiter = Limiter(_client);
        for (int i = 0; i < 128; i++) Assert.True((await limiter.AcquireAsync(before, "ip:203.0.113.6")).Allowed);

        var after = before with { Limit = 10 };   // what the resolver builds from the reloaded file
        int admitted = 0;
        for (int i = 0; i < 50; i++) if ((await limiter.AcquireAsync(after, "ip:203.0.113.6")).Allowed) admitted++;
        Assert.Equal(0, admitted);   // Redis counts 128 already
    }

    /// <summary>A reload that raises the limit is not refused from a rejection cached under the old one.</summary>
    [Fact]
    public async Task AReloadThatRaisesTheLimit_IsNotRefusedFromTheOldRulesRejection()
    {
        var before = new RateLimitRule(Unique("reload-up"), RateLimitAlgorithm.SlidingWindow, 1, TimeSpan.FromHours(1), null, RateLimitPartition.Ip);
        using var limiter = Limiter(_client);
        Assert.True((await limiter.AcquireAsync(before, "ip:203.0.113.5")).Allowed);
        Assert.False((await limiter.AcquireAsync(before, "ip:203.0.113.5")).Allowed);
        _clock.Advance(TimeSpan.FromSeconds(1));

        Assert.True((await limiter.AcquireAsync(before with { Limit = 100 }, "ip:203.0.113.5")).Allowed);
    }

    /// <summary>
    /// One policy name carries two rules at once (the login policy and its devices rule, five times the limit), used in
    /// turn: each keeps its leases. The first fix for reloads (keying leases by name and comparing the values) dropped
    /// every lease of the policy at each alternation, so nearly every request went to Redis.
    /// </summary>
    [Fact]
    public async Task TwoRulesOfOnePolicyUsedInTurn_EachKeepItsLeases()
    {
        var login = new RateLimitRule(Unique("login-devices"), RateLimitAlgorithm.SlidingWindow, 1000, TimeSpan.FromHours(1), null, RateLimitPartition.IpAndAccount);
        var devices = login with { Limit = login.Limit * 5 };
        var counting = new CountingRedisClient(_client);
        using var limiter = Limiter(counting);
        for (int i = 0; i < 200; i++)
        {
            Assert.True((await limiter.AcquireAsync(login, "ip:203.0.113.7")).Allowed);
            Assert.True((await limiter.AcquireAsync(devices, "devs:d1")).Allowed);
        }
        // Leases grow to 100 tokens: a few dozen calls for 400 requests; dropped at every turn it was one per request.
        Assert.InRange(counting.Evaluations, 1, 60);
    }
}
