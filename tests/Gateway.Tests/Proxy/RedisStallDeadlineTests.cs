using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Gateway.Redis;
using Gateway.Resilience;
using Gateway.Tests.Support;
using TestInfrastructure;

namespace Gateway.Tests.Proxy;

/// <summary>
/// A class's deadline bounds the stages that wait for Redis, not only Redis's own time-box: with <c>timeoutMs</c> 300
/// and <c>Redis:OperationTimeout</c> 3 s, a stalled Redis (SIGSTOP) must cost a request its deadline, a 504, and
/// release its tier slot; before, the request waited the whole time-box.
/// </summary>
public sealed class RedisStallDeadlineTests
{
    private const string RedisTimeBox = "--Redis:OperationTimeout=00:00:03";
    // Well under the 3 s time-box, well over the 300 ms deadline on a loaded machine.
    private const int AnsweredWithinMs = 1500;

    [Fact]
    public async Task StalledSessionL2Read_Is504AtTheClassDeadline_AndReleasesTheTiersSlot()
    {
        var server = await RedisServer.StartAsync();
        try
        {
            await using var backend = await FakeSessionBackend.StartAsync();
            string routes = RouteFiles.CreateTemp(j =>
            {
                j["classes"]!["impatient-session"] = new JsonObject { ["tier"] = "standard", ["budgetMs"] = 50, ["auth"] = "session", ["timeoutMs"] = 300 };
                RouteFiles.AddRoute(j, "slow", "/slow/{**rest}", "impatient-session");
            });
            await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, server.ConnectionString, routes, null,
                RedisTimeBox, "--LoadShedding:MaxConcurrency:standard=1");
            await Poll.UntilAsync(() => gateway.Get<IRedisClient>().IsAvailable, "the gateway connects to Redis");

            server.Pause();
            var watch = Stopwatch.StartNew();
            using var response = await gateway.Client.SendAsync(TestSession.Create().Get("/slow/thing"), TestContext.Current.CancellationToken);
            watch.Stop();
            server.Resume();

            Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
            Assert.Equal("impatient-session", response.Headers.GetValues("X-Route-Class").Single());
            Assert.InRange(watch.ElapsedMilliseconds, 0, AnsweredWithinMs);
            Assert.Equal(0, gateway.Get<TierLoadShedder>().SlotOf("standard")!.InFlight);
        }
        finally
        {
            server.Resume();
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task StalledRateLimitLease_Is504AtTheClassDeadline_ForTheFetcherAndTheRequestWaitingForIt()
    {
        var server = await RedisServer.StartAsync();
        try
        {
            await using var backend = await FakeSessionBackend.StartAsync();
            string routes = RouteFiles.CreateTemp(j =>
            {
                j["rateLimitPolicies"]!["stall-probe"] = new JsonObject
                {
                    ["algorithm"] = "sliding-window", ["limit"] = 1000, ["windowSeconds"] = 60, ["partition"] = "ip",
                };
                j["classes"]!["impatient-limited"] = new JsonObject
                {
                    ["tier"] = "standard", ["budgetMs"] = 50, ["auth"] = "anonymous", ["timeoutMs"] = 300, ["rateLimit"] = "stall-probe",
                };
                RouteFiles.AddRoute(j, "slow", "/slow/{**rest}", "impatient-limited");
            });
            await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, server.ConnectionString, routes, null,
                RedisTimeBox, "--LoadShedding:MaxConcurrency:standard=2");
            await Poll.UntilAsync(() => gateway.Get<IRedisClient>().IsAvailable, "the gateway connects to Redis");

            server.Pause();
            // One partition (the client address): the first request fetches the lease, the second waits for that fetch.
            var watch = Stopwatch.StartNew();
            var first = gateway.Client.GetAsync("/slow/a", TestContext.Current.CancellationToken);
            var second = gateway.Client.GetAsync("/slow/b", TestContext.Current.CancellationToken);
            using var a = await first;
            using var b = await second;
            watch.Stop();
            server.Resume();

            Assert.Equal(HttpStatusCode.GatewayTimeout, a.StatusCode);
            Assert.Equal(HttpStatusCode.GatewayTimeout, b.StatusCode);
            Assert.InRange(watch.ElapsedMilliseconds, 0, AnsweredWithinMs);
            Assert.Equal(0, gateway.Get<TierLoadShedder>().SlotOf("standard")!.InFlight);
            Assert.Equal(0, backend.Recording.Requests.Count(r => r.Path.StartsWith("/slow", StringComparison.Ordinal)));
        }
        finally
        {
            server.Resume();
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task ClosedClass_RedisDown_RecheckOfAnL1KnownToken_Is504AtTheClassDeadline()
    {
        // With Redis down a closed class re-checks even a token L1 knows with the backend. That re-check is not charged to
        // the client's unknown-token budget, and it used to lose the request's deadline with the charge: the request
        // waited for Sessions:IntrospectionTimeout (2 s), then 503.
        var server = await RedisServer.StartAsync();
        try
        {
            await using var backend = await FakeSessionBackend.StartAsync();
            var session = TestSession.Create();
            backend.Add(session);
            string routes = RouteFiles.CreateTemp(j =>
            {
                j["classes"]!["impatient-closed"] = new JsonObject
                {
                    ["tier"] = "standard", ["budgetMs"] = 50, ["auth"] = "session", ["timeoutMs"] = 300, ["failMode"] = "closed",
                };
                RouteFiles.AddRoute(j, "slow", "/slow/{**rest}", "impatient-closed");
            });
            await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, server.ConnectionString, routes, null,
                "--LoadShedding:MaxConcurrency:standard=1");
            await Poll.UntilAsync(() => gateway.Get<IRedisClient>().IsAvailable, "the gateway connects to Redis");
            using (var known = await gateway.Client.SendAsync(session.Get("/slow/thing"), TestContext.Current.CancellationToken))
                Assert.Equal(HttpStatusCode.OK, known.StatusCode);

            await server.StopAsync();
            await Poll.UntilAsync(() => !gateway.Get<IRedisClient>().IsAvailable, "the gateway sees Redis down");
            backend.IntrospectionDelay = TimeSpan.FromSeconds(5);
            var watch = Stopwatch.StartNew();
            using var response = await gateway.Client.SendAsync(session.Get("/slow/thing"), TestContext.Current.CancellationToken);
            watch.Stop();

            Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
            Assert.InRange(watch.ElapsedMilliseconds, 0, AnsweredWithinMs);
            Assert.Equal(0, gateway.Get<TierLoadShedder>().SlotOf("standard")!.InFlight);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }
}
