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

    private static string ImpatientRoutes() => RouteFiles.CreateTemp(j =>
    {
        j["classes"]!["impatient"] = new JsonObject { ["tier"] = "standard", ["budgetMs"] = 50, ["auth"] = "anonymous", ["timeoutMs"] = 300 };
        RouteFiles.AddRoute(j, "slow", "/slow/{**rest}", "impatient");
    });
}
