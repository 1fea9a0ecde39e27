using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Resilience;
using Gateway.Routing;
using Gateway.Tests.Hostile;
using Gateway.Tests.Support;
using Polly.CircuitBreaker;
using TestInfrastructure;

namespace Gateway.Tests.Resilience;

/// <summary>
/// A cluster removed from the route-class file takes its breaker with it. Nothing is sent to it any more, so an open
/// breaker could never close: <c>/gateway/status</c> said unhealthy until a restart.
/// </summary>
public sealed class RemovedClusterBreakerTests
{
    [Fact]
    public async Task TheOpenBreakerOfARemovedCluster_LeavesTheStatus_WithTheReload()
    {
        await using var backend = await RecordingBackend.StartAsync();
        var file = JsonNode.Parse(HostileGateway.OpenRoutes("with-dead"))!.AsObject();
        file["routes"]!["dead"] = new JsonObject { ["path"] = "/dead/{**rest}", ["class"] = "open", ["cluster"] = "dead" };
        file["clusters"]!["dead"] = new JsonObject { ["address"] = $"http://127.0.0.1:{FreePort.Next()}" };   // nothing listens
        string routes = RouteFiles.WriteTemp(file.ToJsonString());
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, HostileGateway.NoRedis, routes, null,
            "--Signing:Clusters:dead:Keys:0:Id=dead-k1", $"--Signing:Clusters:dead:Keys:0:Secret={Gateway.Trust.GatewaySecrets.Generate()}");
        var breakers = gateway.Get<BackendResilience>();

        for (int i = 0; i < 40 && breakers.Snapshot().GetValueOrDefault("dead") != CircuitState.Open; i++)
            (await gateway.Client.GetAsync("/dead/x", TestContext.Current.CancellationToken)).Dispose();
        Assert.Equal(CircuitState.Open, breakers.Snapshot()["dead"]);
        Assert.Contains("dead", await StatusBreakersAsync(gateway));

        file["version"] = "without-dead";
        file["routes"]!.AsObject().Remove("dead");
        file["clusters"]!.AsObject().Remove("dead");
        await File.WriteAllTextAsync(routes, file.ToJsonString(), TestContext.Current.CancellationToken);
        var table = gateway.Get<IRouteTable>();
        await Poll.UntilAsync(() => table.Current.Version == "without-dead", "the edited file is applied");

        Assert.DoesNotContain("dead", breakers.Snapshot().Keys);
        Assert.DoesNotContain("dead", await StatusBreakersAsync(gateway));
        Assert.Equal(200, (int)(await gateway.Client.GetAsync("/a/still-served", TestContext.Current.CancellationToken)).StatusCode);
    }

    /// <summary>
    /// A cluster whose address the file fixes is another backend: its breaker starts closed. Until 2026-12-06 the open
    /// breaker of the bad address answered 503 circuit-open for up to Resilience:BreakDuration after the fix.
    /// </summary>
    [Fact]
    public async Task TheOpenBreakerOfAClusterWhoseAddressIsFixed_IsForgottenWithTheReload()
    {
        await using var backend = await RecordingBackend.StartAsync();
        var file = JsonNode.Parse(HostileGateway.OpenRoutes("bad-address"))!.AsObject();
        file["routes"]!["moved"] = new JsonObject { ["path"] = "/moved/{**rest}", ["class"] = "open", ["cluster"] = "moved" };
        file["clusters"]!["moved"] = new JsonObject { ["address"] = $"http://127.0.0.1:{FreePort.Next()}" };   // nothing listens
        string routes = RouteFiles.WriteTemp(file.ToJsonString());
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, HostileGateway.NoRedis, routes, null,
            "--Signing:Clusters:moved:Keys:0:Id=moved-k1", $"--Signing:Clusters:moved:Keys:0:Secret={Gateway.Trust.GatewaySecrets.Generate()}");
        var breakers = gateway.Get<BackendResilience>();
        for (int i = 0; i < 40 && breakers.Snapshot().GetValueOrDefault("moved") != CircuitState.Open; i++)
            (await gateway.Client.GetAsync("/moved/x", TestContext.Current.CancellationToken)).Dispose();
        Assert.Equal(CircuitState.Open, breakers.Snapshot()["moved"]);

        file["version"] = "fixed-address";
        file["clusters"]!["moved"]!["address"] = backend.BaseUrl;
        await File.WriteAllTextAsync(routes, file.ToJsonString(), TestContext.Current.CancellationToken);
        var table = gateway.Get<IRouteTable>();
        await Poll.UntilAsync(() => table.Current.Version == "fixed-address", "the edited file is applied");

        Assert.Equal(200, (int)(await gateway.Client.GetAsync("/moved/x", TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(CircuitState.Closed, breakers.Snapshot()["moved"]);
    }

    /// <summary>The breakers /gateway/status lists (the Redis client's is open here: the suite runs without Redis).</summary>
    private static async Task<string[]> StatusBreakersAsync(GatewayInstance gateway)
    {
        using var status = JsonDocument.Parse(await gateway.AdminClient.GetStringAsync("/gateway/status", TestContext.Current.CancellationToken));
        return [.. status.RootElement.GetProperty("breakers").GetProperty("states").EnumerateArray().Select(b => b.GetProperty("name").GetString()!)];
    }
}
