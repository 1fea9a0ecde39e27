using System.Net;
using Gateway.Tests.Support;
using TestInfrastructure;

namespace Gateway.Tests.Hostile;

/// <summary>
/// <c>TRACE</c> (and IIS's <c>TRACK</c>) never reaches a backend: forwarded, it carried the gateway's signed identity
/// headers, which a backend echoing TRACE (RFC 9110 §9.3.8) showed to the client. 405 <c>trace-not-allowed</c> before
/// routing and sessions, over HTTP/1.1 and HTTP/2, whatever the route's class.
/// </summary>
public sealed class TraceTests
{
    private static readonly string Routes = HostileGateway.OpenAndSessionRoutes("trace");

    [Fact]
    public async Task TraceAndTrack_OnEveryRoute_Are405_AndNeverReachTheBackend()
    {
        await using var backend = await FakeSessionBackend.StartAsync();
        var session = TestSession.Create();
        backend.Add(session);
        int h2cPort = FreePort.Next();
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, HostileGateway.NoRedis, RouteFiles.WriteTemp(Routes), null,
            $"--Gateway:H2cUrls=http://127.0.0.1:{h2cPort}");
        int port = new Uri(gateway.BaseUrl).Port;
        string token = $"Authorization: Bearer {session.Token}\r\n";

        // The same token on a GET reaches the backend, with the identity headers a TRACE echo would have shown.
        var get = await RawHttp.SendAsync(port, $"GET /s/x HTTP/1.1\r\nHost: x\r\n{token}Connection: close\r\n\r\n");
        Assert.True(get.Status == 200, get.Text);
        Assert.Contains(backend.Recording.Requests, r => r.Path == "/s/x" && r.Headers.ContainsKey("X-Gateway-Signature"));

        string[] requests =
        [
            $"TRACE /s/x HTTP/1.1\r\nHost: x\r\n{token}Connection: close\r\n\r\n",   // a signed-in client: was forwarded, signed
            "TRACE /a/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",            // anonymous route: was forwarded
            "TRACE /s/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",            // no token: refused before sessions
            "TRACK /a/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            "trace /a/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        ];
        foreach (var request in requests)
        {
            var response = await RawHttp.SendAsync(port, request);
            Assert.True(response.Status == 405, request + " -> " + response.Text);
            Assert.Contains("application/problem+json", response.Text);
            Assert.Contains("trace-not-allowed", response.Text);
        }

        // HTTP/2, on the gateway's h2c listener.
        using var h2 = new HttpClient(new SocketsHttpHandler()) { BaseAddress = new Uri($"http://127.0.0.1:{h2cPort}") };
        var traced = new HttpRequestMessage(HttpMethod.Trace, "/s/x") { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        traced.Headers.TryAddWithoutValidation("Authorization", "Bearer " + session.Token);
        using var overH2 = await h2.SendAsync(traced, TestContext.Current.CancellationToken);
        Assert.Equal((HttpStatusCode.MethodNotAllowed, new Version(2, 0)), (overH2.StatusCode, overH2.Version));
        Assert.Contains("trace-not-allowed", await overH2.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));

        Assert.DoesNotContain(backend.Recording.Requests, r => r.Method.StartsWith("TR", StringComparison.OrdinalIgnoreCase));
    }
}
