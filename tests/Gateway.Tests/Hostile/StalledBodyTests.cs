using System.Text;
using Gateway.Resilience;
using Gateway.Tests.Support;
using Polly.CircuitBreaker;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;
using TestInfrastructure;

namespace Gateway.Tests.Hostile;

/// <summary>
/// A client that stops sending its body before the route's class timeout passes: it gets 408 with a problem body and a
/// closed connection, never a 5xx (an adversarial review found an empty 504), and nothing is counted on the backend's
/// breaker. The edge's own slow-body check is set later than the class timeout here, so the class timeout is what ends
/// the request.
/// </summary>
public sealed class StalledBodyTests
{
    private const string SlowEdge = "--Kestrel:Limits:MinRequestBodyDataRate:GracePeriod=00:00:30";

    private static byte[] StalledPost(string path, string contentType, string start, string extraHeaders = "") =>
        Encoding.ASCII.GetBytes($"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {contentType}\r\n{extraHeaders}Content-Length: 200\r\n\r\n{start}");

    private static void AssertRequestBodyTimeout(RawResponse response)
    {
        Assert.True(response.Status == 408, response.Text);
        Assert.Contains("https://gateway.dev/problems/request-body-timeout", response.Text);
        Assert.True(response.ConnectionClosed, "the rest of the body must not be read as a next request");
    }

    [Fact]
    public async Task AProxiedRequestsBodyStalledPastTheClassTimeout_Is408_AndNotCountedOnTheBreaker()
    {
        await using var edge = await HostileGateway.StartAsync(HostileGateway.OpenRoutes("stall", timeoutMs: 1500), SlowEdge);
        Assert.Equal(200, (int)(await edge.Gateway.Client.GetAsync("/a/warm-up")).StatusCode);

        for (int i = 0; i < 6; i++)   // more than enough to open the breaker, were they counted
            AssertRequestBodyTimeout(await RawHttp.SendAsync(edge.Port, StalledPost("/a/upload", "application/octet-stream", "0123456789"), TimeSpan.FromSeconds(10)));

        Assert.All(edge.Gateway.Get<BackendResilience>().Snapshot().Values, state => Assert.Equal(CircuitState.Closed, state));
        Assert.Equal(200, (int)(await edge.Gateway.Client.GetAsync("/a/after")).StatusCode);
    }

    [Theory]
    [InlineData("application/octet-stream", "Accept: text/event-stream\r\n")]
    [InlineData("application/grpc", "")]
    public async Task ABodyStalledPastTheClassTimeout_Is408_EvenWhenTheClientDeclaresAStream(string contentType, string extraHeaders)
    {
        // A stream leaves the class's timeout once the upstream answers it as one. Lifted on the client's word alone, a
        // POST declaring an event stream or a gRPC call held its tier's slot for as long as it kept its body coming.
        await using var edge = await HostileGateway.StartAsync(HostileGateway.OpenRoutes("stall-stream", timeoutMs: 1500), SlowEdge);
        Assert.Equal(200, (int)(await edge.Gateway.Client.GetAsync("/a/warm-up")).StatusCode);

        AssertRequestBodyTimeout(await RawHttp.SendAsync(edge.Port, StalledPost("/a/upload", contentType, "0123456789", extraHeaders), TimeSpan.FromSeconds(10)));
        Assert.All(edge.Gateway.Get<BackendResilience>().Snapshot().Values, state => Assert.Equal(CircuitState.Closed, state));
    }

    [Fact]
    public async Task ALoginBodyStalledPastTheClassTimeout_Is408()
    {
        // The login limiter reads the body itself (its account partition), before anything is proxied.
        string routes = RouteFiles.CreateTemp(j => j["classes"]!["auth-anonymous"]!["timeoutMs"] = 1500);
        await using var edge = await HostileGateway.StartWithRouteFileAsync(routes, SlowEdge);

        AssertRequestBodyTimeout(await RawHttp.SendAsync(edge.Port, StalledPost("/auth/login", "application/json", "{\"email\":\"a@"), TimeSpan.FromSeconds(10)));
        Assert.DoesNotContain(edge.Backend.Requests, r => r.Path == "/auth/login");
    }

    [Theory]
    [InlineData("auto")]
    [InlineData("h2c")]
    public async Task ALargeBodyStalledPastTheClustersIdleTimeout_Is408_AndCountsNeitherOnTheBreakerNorOnPassiveHealth(string protocol)
    {
        // Past 64 KB a body is streamed to the backend, not read first under the class's deadline; a cluster's idle
        // timeout (YARP's ActivityTimeout) shorter than the class's timeout then ends a stalled upload. YARP answered it
        // with an empty 408 over HTTP/1.1 and, over h2c, with RequestTimedOut: the backend's 504, though the backend was
        // the one waiting. YARP's passive health counted those against the destination; past 10 requests and 30 %
        // failures it took the cluster's only destination out, for everyone.
        await using var backend = await RecordingBackend.StartAsync(http2Only: protocol == "h2c");
        string routes = RouteFiles.WriteTemp($$"""
            { "version": "stall-idle", "defaultClass": "open",
              "classes": { "open": { "tier": "standard", "budgetMs": 200, "auth": "anonymous", "timeoutMs": 30000 } },
              "routes": { "all": { "path": "/a/{**rest}", "class": "open", "cluster": "backend" } },
              "clusters": { "backend": { "address": "{{backend.BaseUrl}}", "protocol": "{{protocol}}", "idleTimeoutSeconds": 1,
                                         "healthCheck": { "passive": true } } } }
            """);
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, HostileGateway.NoRedis, routes, null, SlowEdge);
        Assert.Equal(200, (int)(await gateway.Client.GetAsync("/a/warm-up")).StatusCode);
        int port = new Uri(gateway.BaseUrl).Port;

        var head = Encoding.ASCII.GetBytes("POST /a/upload HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 300000\r\n\r\n");
        byte[] stalled = [.. head, .. new byte[100_000]];
        var answers = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => RawHttp.SendAsync(port, stalled, TimeSpan.FromSeconds(15))));

        Assert.All(answers, AssertRequestBodyTimeout);
        Assert.All(gateway.Get<BackendResilience>().Snapshot().Values, state => Assert.Equal(CircuitState.Closed, state));
        Assert.True(gateway.Get<IProxyStateLookup>().TryGetCluster("backend", out var cluster));
        Assert.All(cluster.Destinations.Values, d => Assert.NotEqual(DestinationHealth.Unhealthy, d.Health.Passive));
        Assert.Equal(200, (int)(await gateway.Client.GetAsync("/a/after")).StatusCode);
    }
}
