using Gateway.Tests.Support;
using Microsoft.AspNetCore.Http;
using TestInfrastructure;

namespace Gateway.Tests.Hostile;

/// <summary>
/// Client mistakes over HTTP/2 (cleartext h2c listener, hand-built frames: <see cref="RawH2"/>) get a 4xx or Kestrel's
/// stream/connection error, never a 5xx from the gateway, as their HTTP/1.1 equivalents do.
/// </summary>
public sealed class Http2RequestTests
{
    private static async Task<(HostileGateway Gateway, int H2cPort)> StartAsync(string version)
    {
        int h2c = FreePort.Next();
        return (await HostileGateway.StartAsync(HostileGateway.OpenRoutes(version), $"--Gateway:H2cUrls=http://127.0.0.1:{h2c}"), h2c);
    }

    private static (string, string)[] ExtendedConnect(string path) =>
        [(":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "http"), (":authority", "localhost"), (":path", path), ("sec-websocket-version", "13")];

    [Fact]
    public async Task AWebSocketOverHttp2_ToAPathThatAnswers200_Is400NotA502()
    {
        var (gw, h2c) = await StartAsync("h2-ws-200");
        await using var _ = gw;

        // HTTP/1.1: the backend's plain 200 to the upgrade request passes through (no 101, so the WebSocket client fails).
        var http1 = await RawHttp.SendAsync(gw.Port, "GET /a/plain HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", TimeSpan.FromSeconds(3));
        Assert.True(http1.Status == 200, http1.Text);

        // HTTP/2: a 200 to CONNECT means "tunnel open" and cannot carry the backend's body; the gateway answered 502.
        for (int i = 0; i < 3; i++)
        {
            await using var h2 = await RawH2.ConnectAsync(h2c);
            await h2.HeadersAsync(1, false, ExtendedConnect("/a/plain"));
            var answer = await h2.ReadAnswerAsync(1);
            Assert.True(answer.Status == 400, answer.ToString());
            Assert.Contains("websocket-not-accepted", answer.Body);
        }
        Assert.True(gw.Backend.Requests.Count(r => r.Path == "/a/plain") >= 4);   // the backend was asked, and answered

        string metrics = await gw.Gateway.AdminClient.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
        Assert.DoesNotContain("status_class=\"5xx\"", metrics);
        Assert.DoesNotContain("gateway_proxy_errors_total{", metrics);
    }

    /// <summary>
    /// An HTTP/2 WebSocket (extended CONNECT) reaches an HTTP/1.1 cluster as an upgrade GET, and is signed as what the
    /// backend receives: until 2026-12-05 the gateway signed the client's CONNECT, and every verifier refused it (401).
    /// </summary>
    [Fact]
    public async Task AWebSocketOverHttp2_IsSignedWithTheMethodTheBackendReceives()
    {
        var (gw, h2c) = await StartAsync("h2-ws-signed");
        await using var _ = gw;

        await using (var h2 = await RawH2.ConnectAsync(h2c))
        {
            await h2.HeadersAsync(1, false, ExtendedConnect("/a/ws"));
            await h2.ReadAnswerAsync(1);
        }

        var r = Assert.Single(gw.Backend.Requests, r => r.Path == "/a/ws");
        Assert.Equal("GET", r.Method);
        Assert.True(GatewayInstance.Verifier.Verify(r.Method, r.Path, r.Query, long.Parse(r.Headers[Gateway.Trust.IdentityHeaders.Timestamp]),
            r.Headers[Gateway.Trust.IdentityHeaders.ClientIp], new Gateway.Trust.SignedIdentity("", "", "", ""), r.Headers[Gateway.Trust.IdentityHeaders.Signature]));
    }

    [Fact]
    public async Task AWebSocketOverHttp2_ThatTheBackendRefusesWith404_GetsThe404AndItsBody()
    {
        var (gw, h2c) = await StartAsync("h2-ws-404");
        await using var _ = gw;
        gw.Backend.Handler = async ctx =>
        {
            ctx.Response.StatusCode = StatusCodes.Status404NotFound;
            await ctx.Response.WriteAsync("no such thing");
        };

        await using var h2 = await RawH2.ConnectAsync(h2c);
        await h2.HeadersAsync(1, false, ExtendedConnect("/a/missing"));
        var answer = await h2.ReadAnswerAsync(1);
        Assert.True(answer.Status == 404, answer.ToString());
        Assert.Equal("no such thing", answer.Body);
    }

    [Fact]
    public async Task AWebSocketOverHttp2_ToTheHealthPaths_IsA404_NotA500()
    {
        // The health paths' fixed 200 with a body cannot answer CONNECT: Kestrel refused the write (unhandled exception,
        // logged at Error) and the stream got a 500. A WebSocket there is now a path that serves none, like any other.
        var (gw, h2c) = await StartAsync("h2-ws-health");
        await using var _ = gw;
        foreach (var path in new[] { "/health", "/ready" })
        {
            await using var h2 = await RawH2.ConnectAsync(h2c);
            await h2.HeadersAsync(1, false, ExtendedConnect(path));
            var answer = await h2.ReadAnswerAsync(1);
            Assert.True(answer.Status == 404, path + ": " + answer);
        }
        await using (var h2 = await RawH2.ConnectAsync(h2c))
        {
            await h2.HeadersAsync(1, false, (":method", "CONNECT"), (":protocol", "foo"), (":scheme", "http"), (":authority", "localhost"), (":path", "/health"));
            var answer = await h2.ReadAnswerAsync(1);
            Assert.True(answer.Status == 400 && answer.Body.Contains("unsupported-connect"), answer.ToString());
        }
    }

    [Theory]
    [InlineData("foo")]
    [InlineData("connect-udp")]
    public async Task AnExtendedConnectForAnotherProtocolThanWebSocket_Is400_NotA502WithAStackTrace(string protocol)
    {
        var (gw, h2c) = await StartAsync("h2-connect-" + protocol);
        await using var _ = gw;

        for (int i = 0; i < 3; i++)
        {
            await using var h2 = await RawH2.ConnectAsync(h2c);
            await h2.HeadersAsync(1, false, (":method", "CONNECT"), (":protocol", protocol), (":scheme", "http"), (":authority", "localhost"), (":path", "/a/x"));
            var answer = await h2.ReadAnswerAsync(1);
            Assert.True(answer.Status == 400, answer.ToString());
            Assert.Contains("unsupported-connect", answer.Body);
        }
        Assert.DoesNotContain(gw.Backend.Requests, r => r.Path == "/a/x");

        // Before: YARP's RequestCreation failure, 502, counted as the backend's and logged at Warning with its stack trace.
        string metrics = await gw.Gateway.AdminClient.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
        Assert.DoesNotContain("status_class=\"5xx\"", metrics);
        Assert.DoesNotContain("gateway_proxy_errors_total{", metrics);
    }
}
