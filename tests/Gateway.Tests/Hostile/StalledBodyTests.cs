using System.Text;
using Gateway.Resilience;
using Gateway.Tests.Support;
using Polly.CircuitBreaker;
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
}
