using Gateway.Tests.Observability;
using Gateway.Tests.Support;
using Microsoft.Extensions.Logging;
using TestInfrastructure;

namespace Gateway.Tests.Hostile;

/// <summary>
/// <c>CONNECT</c> on the plain HTTP/1.1 listener, sent over raw sockets so nothing normalises it. HTTP/1.1 has no
/// extended CONNECT (its WebSockets are an upgrade GET), so every CONNECT asks for a tunnel, which the gateway is not:
/// 400 <c>unsupported-connect</c> before routing, on anonymous and session routes alike, never a 502 counted as the
/// backend's failure and logged with a stack trace.
/// </summary>
public sealed class Http1ConnectTests
{
    private static readonly string Routes = HostileGateway.OpenAndSessionRoutes("h1-connect");

    [Fact]
    public async Task Http11Connect_InEveryTargetForm_OnAnonymousAndSessionRoutes_Is400UnsupportedConnect_NeverA502()
    {
        var capture = new CapturingLoggerProvider();
        await using var backend = await FakeSessionBackend.StartAsync();
        var session = TestSession.Create();
        backend.Add(session);
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, HostileGateway.NoRedis, RouteFiles.WriteTemp(Routes),
            b => b.Logging.AddProvider(capture));
        int port = new Uri(gateway.BaseUrl).Port;
        string token = $"Authorization: Bearer {session.Token}\r\n";

        // The session is valid: the same token on a GET reaches the backend.
        var get = await RawHttp.SendAsync(port, $"GET /s/x HTTP/1.1\r\nHost: x\r\n{token}Connection: close\r\n\r\n");
        Assert.True(get.Status == 200, get.Text);

        string[] requests =
        [
            "CONNECT /a/x HTTP/1.1\r\nHost: x\r\n\r\n",                        // origin-form, anonymous route: was 502
            "CONNECT /s/x HTTP/1.1\r\nHost: x\r\n\r\n",                        // session route, no token: was 401
            $"CONNECT /s/x HTTP/1.1\r\nHost: x\r\n{token}\r\n",                // session route, valid token: was 502
            "CONNECT http://x/a/x HTTP/1.1\r\nHost: x\r\n\r\n",                // absolute-form: was 502
            "connect /a/x HTTP/1.1\r\nHost: x\r\n\r\n",                        // the method in lower case: was 502
            "CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n",  // authority-form: was an empty 404
            $"CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n{token}\r\n",
        ];
        foreach (var request in requests)
        {
            // Tunnel bytes sent right behind the CONNECT (an optimistic client) are never parsed as a next request.
            var response = await RawHttp.SendAsync(port, request + "GET /a/smuggled HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.True(response.Status == 400, request + " -> " + response.Text);
            Assert.Contains("application/problem+json", response.Text);
            Assert.Contains("unsupported-connect", response.Text);
            // One status line (ResponseCount would also count the "HTTP/1.1" in the problem's detail).
            Assert.Single(System.Text.RegularExpressions.Regex.Matches(response.Text, @"(^|\r\n)HTTP/1\.1 \d{3} "));
            Assert.True(response.ConnectionClosed, response.Text);
        }

        Assert.DoesNotContain(backend.Recording.Requests, r => r.Path.StartsWith("/a/", StringComparison.Ordinal) || r.Method.Equals("CONNECT", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(capture.Entries, e => e.Level >= LogLevel.Warning
            && (e.Category.StartsWith("Gateway.Proxy", StringComparison.Ordinal) || e.Category.StartsWith("Yarp", StringComparison.Ordinal)));
        string metrics = await gateway.AdminClient.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
        Assert.DoesNotContain("status_class=\"5xx\"", metrics);
        Assert.DoesNotContain("gateway_proxy_errors_total{", metrics);
        Assert.Contains("gateway_breaker_state{name=\"backend\"} 0", metrics);
    }

    /// <summary>
    /// The health paths are answered before the pipeline with a fixed 200 and body, which cannot answer CONNECT: Kestrel
    /// refused the write, an unhandled exception logged at Error, and the client got a 500.
    /// </summary>
    [Fact]
    public async Task Connect_ToTheHealthPaths_Is400UnsupportedConnect_NotA500LoggedAsAnError()
    {
        var capture = new CapturingLoggerProvider();
        await using var backend = await RecordingBackend.StartAsync();
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, HostileGateway.NoRedis, RouteFiles.WriteTemp(Routes),
            b => b.Logging.AddProvider(capture));
        int port = new Uri(gateway.BaseUrl).Port;

        foreach (var path in new[] { "/health", "/ready", "/HEALTH" })
        {
            var response = await RawHttp.SendAsync(port, $"CONNECT {path} HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.True(response.Status == 400, path + " -> " + response.Text);
            Assert.Contains("unsupported-connect", response.Text);
        }
        // The probes themselves are untouched.
        var health = await RawHttp.SendAsync(port, "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.True(health.Status == 200 && health.Text.Contains("{\"status\":\"ok\"}"), health.Text);

        Assert.DoesNotContain(capture.Entries, e => e.Level >= LogLevel.Error);
    }
}
