using System.Net;
using Microsoft.AspNetCore.Http;
using System.Text.Json.Nodes;
using Gateway.Resilience;
using Gateway.Tests.Support;
using Polly.CircuitBreaker;

namespace Gateway.Tests.Resilience;

/// <summary>
/// A cluster's idle timeout (YARP's ActivityTimeout) shorter than the class's: a hung backend's bodiless requests end
/// there. YARP answered an empty 504 and nothing counted it (its activity token is the caller's, so the resilience
/// handler took it for the client leaving): the breaker never opened, against docs/policies.md.
/// </summary>
public sealed class IdleTimeoutTests
{
    [Fact]
    public async Task ABackendSilentPastTheClustersIdleTimeout_Is504WithAProblem_AndOpensTheBreaker()
    {
        await using var backend = await FakeSessionBackend.StartAsync();
        backend.Proxied = async ctx => { await Task.Delay(TimeSpan.FromSeconds(3), ctx.RequestAborted); await ctx.Response.WriteAsync("late"); };
        string routes = RouteFiles.CreateTemp(j =>
        {
            j["classes"]!["slow-open"] = JsonNode.Parse("""{ "tier": "standard", "budgetMs": 200, "auth": "anonymous", "timeoutMs": 8000 }""");
            j["clusters"]!["backend"]!["idleTimeoutSeconds"] = 1;
            j["routes"]!["hung"] = JsonNode.Parse("""{ "path": "/hung/{**rest}", "class": "slow-open", "cluster": "backend" }""");
        });
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, "127.0.0.1:1,abortConnect=false", routes);

        for (int i = 0; i < 5; i++)
        {
            using var response = await gateway.Client.GetAsync("/hung/x");
            Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("idle timeout", await response.Content.ReadAsStringAsync());
        }
        Assert.Equal(CircuitState.Open, gateway.Get<BackendResilience>().Snapshot()["backend"]);
    }
}
