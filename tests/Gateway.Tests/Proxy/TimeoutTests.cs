using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Support;
using Microsoft.Extensions.Logging;
using TestInfrastructure;

namespace Gateway.Tests.Proxy;

public sealed class TimeoutTests(RedisFixture redis)
{
    [Fact]
    public async Task ClassTimeout_CutsASlowBackendResponse()
    {
        await using var backend = await FakeSessionBackend.StartAsync();
        var release = new TaskCompletionSource();
        backend.Recording.Handler = async ctx =>
        {
            await release.Task.WaitAsync(TimeSpan.FromSeconds(30), ctx.RequestAborted);
            ctx.Response.StatusCode = 200;
        };
        string routes = RouteFiles.CreateTemp(j =>
        {
            j["classes"]!["impatient"] = new JsonObject { ["tier"] = "standard", ["budgetMs"] = 50, ["auth"] = "anonymous", ["timeoutMs"] = 300 };
            RouteFiles.AddRoute(j, "slow", "/slow/{**rest}", "impatient");
        });
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, redis.ConnectionString, routes);
        try
        {
            var response = await gateway.Client.GetAsync("/slow/thing");
            Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
            Assert.Equal("impatient", response.Headers.GetValues("X-Route-Class").Single());
        }
        finally { release.TrySetResult(); }
    }

    [Fact]
    public async Task ClassTimeoutsOfBodilessRequests_OpenTheClusterBreaker_ThenTheBackendIsSpared()
    {
        await using var backend = await FakeSessionBackend.StartAsync();
        var release = new TaskCompletionSource();
        backend.Recording.Handler = async ctx => await release.Task.WaitAsync(TimeSpan.FromSeconds(30), ctx.RequestAborted);
        string routes = ImpatientRoutes();
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, redis.ConnectionString, routes);
        try
        {
            for (int i = 0; i < 5; i++)
                Assert.Equal(HttpStatusCode.GatewayTimeout, (await gateway.Client.GetAsync("/slow/thing")).StatusCode);
            Assert.Equal(Polly.CircuitBreaker.CircuitState.Open, gateway.Get<Gateway.Resilience.BackendResilience>().Snapshot()["backend"]);
            int seen = backend.Recording.Requests.Count;
            var open = await gateway.Client.GetAsync("/slow/thing");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, open.StatusCode);
            Assert.Equal("circuit-open", open.Headers.GetValues("X-Gateway-Fault").Single());
            Assert.Equal(seen, backend.Recording.Requests.Count);
        }
        finally { release.TrySetResult(); }
    }

    [Fact]
    public async Task ClassTimeoutsOfRequestsWithABody_NeverOpenTheBreaker()
    {
        // A client trickling its body runs into the same deadline: one client's slowness must not cut off the others.
        await using var backend = await FakeSessionBackend.StartAsync();
        var release = new TaskCompletionSource();
        backend.Recording.Handler = async ctx => await release.Task.WaitAsync(TimeSpan.FromSeconds(30), ctx.RequestAborted);
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, redis.ConnectionString, ImpatientRoutes());
        try
        {
            for (int i = 0; i < 8; i++)
                Assert.Equal(HttpStatusCode.GatewayTimeout, (await gateway.Client.PostAsync("/slow/thing", new StringContent("{}"))).StatusCode);
            Assert.Equal(Polly.CircuitBreaker.CircuitState.Closed, gateway.Get<Gateway.Resilience.BackendResilience>().Snapshot()["backend"]);
        }
        finally { release.TrySetResult(); }
    }

    [Fact]
    public async Task ClassTimeoutDuringSessionIntrospection_Is504_AndReleasesTheTiersSlot()
    {
        // The class's deadline also bounds introspection. Request telemetry's frame answers the 504 and releases what
        // admission took (the tier's slot, the deadline): with one slot in the tier, a slot kept by any of these
        // requests would make the next one a 503.
        await using var backend = await FakeSessionBackend.StartAsync();
        backend.IntrospectionDelay = TimeSpan.FromSeconds(5);
        string routes = RouteFiles.CreateTemp(j =>
        {
            j["classes"]!["impatient-session"] = new JsonObject { ["tier"] = "standard", ["budgetMs"] = 50, ["auth"] = "session", ["timeoutMs"] = 300 };
            RouteFiles.AddRoute(j, "slow", "/slow/{**rest}", "impatient-session");
        });
        var logs = new Gateway.Tests.Observability.CapturingLoggerProvider();
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, redis.ConnectionString, routes, b => b.Logging.AddProvider(logs),
            "--LoadShedding:MaxConcurrency:standard=1");

        for (int i = 0; i < 3; i++)
        {
            using var response = await gateway.Client.SendAsync(TestSession.Create().Get("/slow/thing"));
            Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
            Assert.Equal("impatient-session", response.Headers.GetValues("X-Route-Class").Single());
            Assert.Matches("^[0-9a-f]{32}$", response.Headers.GetValues("X-Request-Id").Single());
        }
        Assert.Equal(0, gateway.Get<Gateway.Resilience.TierLoadShedder>().SlotOf("standard")!.InFlight);
        Assert.Equal(0, backend.Recording.Requests.Count(r => r.Path.StartsWith("/slow", StringComparison.Ordinal)));
        // The over-budget log names where the time went, although the stage ended by the deadline's cancellation.
        var overBudget = logs.Entries.Where(e => e.EventId.Name == "RequestOverBudget").ToList();
        Assert.NotEmpty(overBudget);
        Assert.All(overBudget, e => Assert.Contains("longest stage session.validate", e.Message));
    }

    [Fact]
    public async Task LookupsCutOffByTheClassDeadline_GiveTheUnknownTokenBudgetBack_OnlyForTokensThatWereValid()
    {
        // A slow backend must not spend the unknown-token budget of clients whose tokens are valid (an office behind one
        // address would be locked out of new sessions), while hanging up still does not make unknown tokens free.
        await using var backend = await FakeSessionBackend.StartAsync();
        backend.IntrospectionDelay = TimeSpan.FromMilliseconds(800);
        string routes = RouteFiles.CreateTemp(j =>
        {
            j["classes"]!["impatient-session"] = new JsonObject { ["tier"] = "standard", ["budgetMs"] = 5000, ["auth"] = "session", ["timeoutMs"] = 200 };
            RouteFiles.AddRoute(j, "slow", "/slow/{**rest}", "impatient-session");
        });
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, redis.ConnectionString, routes, null,
            "--Sessions:InvalidTokenBudget:Limit=2");
        async Task<HttpStatusCode> Send(TestSession session)
        {
            using var response = await gateway.Client.SendAsync(session.Get("/slow/thing"));
            return response.StatusCode;
        }
        TestSession Valid() { var s = TestSession.Create(); backend.Add(s); return s; }

        // Valid tokens: each lookup cut off at 200 ms, its unit back once the backend answered "valid".
        Assert.Equal(HttpStatusCode.GatewayTimeout, await Send(Valid()));
        Assert.Equal(HttpStatusCode.GatewayTimeout, await Send(Valid()));
        await Task.Delay(1500);
        Assert.Equal(HttpStatusCode.GatewayTimeout, await Send(Valid()));   // 429 if the two units were kept

        // Unknown tokens: the units stay spent.
        await Task.Delay(1500);
        Assert.Equal(HttpStatusCode.GatewayTimeout, await Send(TestSession.Create()));
        Assert.Equal(HttpStatusCode.GatewayTimeout, await Send(TestSession.Create()));
        await Task.Delay(1500);
        Assert.Equal(HttpStatusCode.TooManyRequests, await Send(TestSession.Create()));
    }

    private static string ImpatientRoutes() => RouteFiles.CreateTemp(j =>
    {
        j["classes"]!["impatient"] = new JsonObject { ["tier"] = "standard", ["budgetMs"] = 50, ["auth"] = "anonymous", ["timeoutMs"] = 300 };
        RouteFiles.AddRoute(j, "slow", "/slow/{**rest}", "impatient");
    });
}
