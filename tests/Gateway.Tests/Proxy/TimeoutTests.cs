using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Support;
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
}
