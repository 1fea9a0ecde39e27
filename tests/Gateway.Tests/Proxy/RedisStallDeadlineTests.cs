using System.Net;
using System.Text.Json.Nodes;
using Gateway.Redis;
using Gateway.Resilience;
using Gateway.Tests.Support;
using TestInfrastructure;

namespace Gateway.Tests.Proxy;

/// <summary>
/// A class's deadline bounds the stages that wait for Redis, not only Redis's own time-box: with <c>timeoutMs</c> 300
/// and a Redis time-box of 10 s, a stalled Redis (SIGSTOP) must cost a request its deadline, a 504, and release its tier
/// slot. Before, the request waited for the time-box. Told apart by order, not by a stopwatch: the answer must come
/// while the gateway's Redis call is still pending (the client still counts Redis as available; a timed-out call marks
/// it down before a request that waited for it is answered).
/// </summary>
public sealed class RedisStallDeadlineTests
{
    private const string RedisTimeBox = "--Redis:OperationTimeout=00:00:10";

    /// <summary>The library's own timeouts as long as the gateway's time-box, so only that box ends a stalled call.</summary>
    private static string Patient(RedisServer server) => server.ConnectionString + ",syncTimeout=10000,asyncTimeout=10000";

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
            await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, Patient(server), routes, null,
                RedisTimeBox, "--LoadShedding:MaxConcurrency:standard=1");
            await Poll.UntilAsync(() => gateway.Get<IRedisClient>().IsAvailable, "the gateway connects to Redis");

            server.Pause();
            using var response = await gateway.Client.SendAsync(TestSession.Create().Get("/slow/thing"), TestContext.Current.CancellationToken);
            bool redisCallStillPending = gateway.Get<IRedisClient>().IsAvailable;
            server.Resume();

            Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
            Assert.Equal("impatient-session", response.Headers.GetValues("X-Route-Class").Single());
            Assert.True(redisCallStillPending, "the request was answered only after its Redis call failed: it waited for Redis, not its deadline");
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
            await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, Patient(server), routes, null,
                RedisTimeBox, "--LoadShedding:MaxConcurrency:standard=2");
            await Poll.UntilAsync(() => gateway.Get<IRedisClient>().IsAvailable, "the gateway connects to Redis");

            server.Pause();
            // One partition (the client address): the first request fetches the lease, the second waits for that fetch.
            var first = gateway.Client.GetAsync("/slow/a", TestContext.Current.CancellationToken);
            var second = gateway.Client.GetAsync("/slow/b", TestContext.Current.CancellationToken);
            using var a = await first;
            using var b = await second;
            bool redisCallStillPending = gateway.Get<IRedisClient>().IsAvailable;
            server.Resume();

            Assert.Equal(HttpStatusCode.GatewayTimeout, a.StatusCode);
            Assert.Equal(HttpStatusCode.GatewayTimeout, b.StatusCode);
            Assert.True(redisCallStillPending, "the requests were answered only after the lease fetch failed: they waited for Redis, not their deadline");
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
            using var response = await gateway.Client.SendAsync(session.Get("/slow/thing"), TestContext.Current.CancellationToken);

            // Waiting for the introspection's own time-box (2 s) would have ended in 503.
            Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
            Assert.Equal(0, gateway.Get<TierLoadShedder>().SlotOf("standard")!.InFlight);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }
}
