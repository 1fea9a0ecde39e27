using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Support;
using TestInfrastructure;

namespace Gateway.Tests.Scale;

/// <summary>
/// Issue 13's promise that leasing rate-limit tokens in batches trades nothing away, end to end: three gateway
/// processes on one Redis, each leasing from the same partition (one client address), admit together no more than the
/// policy allows over the whole run (token bucket: the burst plus the rate times the elapsed time; sliding window: the
/// limit per fixed window), and not far less either, flooded or each below the limit but together above it.
/// In-process limiter instances with a manual clock test the same scripts in detail (RateLimitLeaseTests); this is the
/// deployed shape, with real clocks, real processes and their own lease tables.
/// </summary>
/// <remarks>Runs alone (the chaos collection): the flood would slow the timing-sensitive tests around it.</remarks>
[Collection(nameof(ChaosCollection))]
public sealed class RateLimitAcrossProcessesTests(RedisFixture redis) : IAsyncLifetime
{
    private const int Limit = 40;          // tokens per second
    private const int Burst = 40;          // bucket capacity
    private const int Gateways = 3;
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(4);

    private FakeSessionBackend _backend = null!;
    private readonly List<GatewayProcess> _gateways = [];

    public async ValueTask InitializeAsync()
    {
        _backend = await FakeSessionBackend.StartAsync();
        // A policy name of its own: the partition (ip:127.0.0.1) is shared by every test on this Redis, the key is not.
        string id = Guid.NewGuid().ToString("N");
        string routes = RouteFiles.CreateTemp(json =>
        {
            AddLimitedRoute(json, "bucket", "bucket-" + id, new JsonObject
            {
                ["algorithm"] = "token-bucket", ["limit"] = Limit, ["windowSeconds"] = 1, ["burst"] = Burst, ["partition"] = "ip",
            });
            AddLimitedRoute(json, "window", "window-" + id, new JsonObject
            {
                ["algorithm"] = "sliding-window", ["limit"] = Limit, ["windowSeconds"] = 1, ["partition"] = "ip",
            });
        });
        var starting = Enumerable.Range(0, Gateways).Select(_ => GatewayProcess.StartAsync(_backend.BaseUrl, redis.ConnectionString, routes));
        _gateways.AddRange(await Task.WhenAll(starting));
    }

    /// <summary>An anonymous class limited by <paramref name="policy"/>, routed at <c>/{name}/**</c>.</summary>
    private static void AddLimitedRoute(JsonObject json, string name, string policyName, JsonObject policy)
    {
        json["rateLimitPolicies"]![policyName] = policy;
        json["classes"]![name] = new JsonObject
        {
            ["tier"] = "standard", ["budgetMs"] = 200, ["auth"] = "anonymous", ["timeoutMs"] = 5000,
            ["rateLimit"] = policyName, ["failMode"] = "closed",
        };
        RouteFiles.AddRoute(json, name, $"/{name}/{{**rest}}", name);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var gateway in _gateways) await gateway.DisposeAsync();
        await _backend.DisposeAsync();
    }

    [Fact]
    public async Task ThreeGatewayProcesses_FloodingOnePartition_AdmitNoMoreThanTheBucket_AndMostOfIt()
    {
        // Four loops per gateway, each sending as fast as answers come: hundreds of times the limit.
        var run = await RunAsync("bucket", loopsPerGateway: 4, pause: null, BucketBound);

        Assert.True(run.Rejected > 10 * run.Admitted, "the flood must run far above the limit for the bound to mean anything: " + run);
        Assert.True(run.Admitted <= run.Bound, "the three gateways together over-admitted: " + run);
        // Leases that expire unused are the only loss; with every instance busy they are used at once (measured: 97-98 %
        // of the bound).
        Assert.True(run.Admitted >= run.MostOf(run.Bound), "the gateways under-admitted far beyond their unused leases: " + run);
    }

    [Fact]
    public async Task ThreeGatewayProcesses_EachAtHalfTheLimit_TogetherAbove_AdmitTheBucket_NoMore()
    {
        // One loop per gateway, a request every 50 ms: 20 per second each, 60 together against a limit of 40. This is
        // where leases could waste most: no instance alone is busy enough to use a large lease before its tokens expire.
        var run = await RunAsync("bucket", loopsPerGateway: 1, pause: TimeSpan.FromMilliseconds(50), BucketBound);

        Assert.True(run.Rejected > 0, "the three together must run above the limit: " + run);
        Assert.True(run.Admitted <= run.Bound, "the three gateways together over-admitted: " + run);
        Assert.True(run.Admitted >= run.MostOf(run.Bound), "the gateways under-admitted far beyond their unused leases: " + run);
    }

    [Fact]
    public async Task ThreeGatewayProcesses_FloodingASlidingWindow_AdmitNoMoreThanTheLimitPerWindow_AndMostOfIt()
    {
        var run = await RunAsync("window", loopsPerGateway: 4, pause: null, WindowBound);

        Assert.True(run.Rejected > 10 * run.Admitted, "the flood must run far above the limit for the bound to mean anything: " + run);
        Assert.True(run.Admitted <= run.Bound, "the three gateways together over-admitted: " + run);
        // The sliding estimate weighs the previous window in, so a steady flood gets about the limit per second.
        Assert.True(run.Admitted >= run.MostOf(Limit * (int)run.Seconds), "the gateways under-admitted far beyond their unused leases: " + run);
    }

    /// <summary>GCRA admits at most the burst plus one token per emission interval in any span of time (+1: the token that
    /// conforms exactly at the end of the span).</summary>
    private static int BucketBound(double seconds) => Burst + (int)Math.Ceiling(Limit * seconds) + 1;

    /// <summary>The sliding estimate is at least the current fixed window's count, so no fixed window admits more than the
    /// limit; a span of s seconds touches at most floor(s) + 2 of them.</summary>
    private static int WindowBound(double seconds) => Limit * ((int)Math.Floor(seconds) + 2);

    /// <summary>
    /// One run's counts. <see cref="Seconds"/> is the span the promise is checked over, not a speed being measured: a slower
    /// machine makes the span longer and the bound larger, never a false failure. <see cref="MostOf"/> is likewise
    /// relative to what the clients managed to send, so a slow machine that offers less expects less.
    /// </summary>
    private sealed record Run(int[] PerGateway, int Admitted, int Rejected, double Seconds, int Bound)
    {
        /// <summary>Three quarters of what the policy allowed, or of what was offered if that was less.</summary>
        public int MostOf(int allowed) => Math.Min(allowed, Admitted + Rejected) * 3 / 4;

        public override string ToString() =>
            $"admitted {string.Join("/", PerGateway)} (total {Admitted}), rejected {Rejected}, over {Seconds:F2} s, bound {Bound}";
    }

    /// <summary>
    /// Sends requests through all three gateways for <see cref="Duration"/> and counts the answers. Asserts what holds for
    /// every run: only 200 and 429, and exactly the admitted requests reached the backend.
    /// </summary>
    private async Task<Run> RunAsync(string route, int loopsPerGateway, TimeSpan? pause, Func<double, int> bound)
    {
        var admitted = new int[Gateways];
        int rejected = 0;
        var other = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var clients = _gateways.Select(g => new HttpClient { BaseAddress = new Uri(g.BaseUrl), Timeout = TimeSpan.FromSeconds(10) }).ToArray();
        var ct = TestContext.Current.CancellationToken;
        try
        {
            // Each process's proxy path and limiter compiled before the clock starts, then time for the bucket to refill:
            // a cold start would lose the tokens of its first moments (a bucket does not save up beyond its burst).
            foreach (var client in clients)
                for (int i = 0; i < 2; i++) (await client.GetAsync($"/{route}/warm-up", ct)).Dispose();
            await Task.Delay(TimeSpan.FromSeconds(1.5), ct);

            // Started before the first request is sent and stopped after the last answer: every admission lies inside.
            var clock = Stopwatch.StartNew();
            var loops = Enumerable.Range(0, Gateways * loopsPerGateway).Select(n => Task.Run(async () =>
            {
                int g = n % Gateways;
                using var timer = pause is { } p ? new PeriodicTimer(p) : null;
                while (clock.Elapsed < Duration)
                {
                    using (var response = await clients[g].GetAsync($"/{route}/item-{n}", ct))
                    {
                        if (response.StatusCode == HttpStatusCode.OK) Interlocked.Increment(ref admitted[g]);
                        else if (response.StatusCode == HttpStatusCode.TooManyRequests) Interlocked.Increment(ref rejected);
                        else other.Enqueue($"gateway {g}: {(int)response.StatusCode}");
                    }
                    if (timer is not null) await timer.WaitForNextTickAsync(ct);
                }
            }, ct));
            await Task.WhenAll(loops);
            double seconds = clock.Elapsed.TotalSeconds;

            var run = new Run(admitted, admitted.Sum(), rejected, seconds, bound(seconds));
            TestContext.Current.TestOutputHelper?.WriteLine(run.ToString());
            Assert.True(other.IsEmpty, "only 200 and 429 expected: " + string.Join(", ", other.Take(5)) + "; " + run);
            Assert.Equal(run.Admitted, _backend.Recording.Requests.Count(r => r.Path.StartsWith($"/{route}/item-", StringComparison.Ordinal)));
            return run;
        }
        finally
        {
            foreach (var client in clients) client.Dispose();
        }
    }
}
