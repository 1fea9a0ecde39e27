using Gateway.Tests.Observability;
using Gateway.Tests.Streams;
using Gateway.Tests.Support;
using Microsoft.Extensions.Logging;
using TestInfrastructure;

namespace Gateway.Tests.Hostile;

/// <summary>
/// HTTP/1.1 upgrades to anything but a WebSocket, over raw sockets. YARP failed a <c>SPDY/3.1</c> upgrade to an HTTP/2
/// (h2c) cluster while building the request: an empty 502, logged with a stack trace and counted as the backend's
/// failure, for a client's header. The gateway ignores such an upgrade (RFC 9110 §7.8) and proxies the plain request.
/// </summary>
public sealed class UpgradeTests
{
    [Theory]
    [InlineData("SPDY/3.1")]
    [InlineData("h2c")]
    [InlineData("websocket, SPDY/3.1")]
    public async Task AnUpgradeOtherThanWebSocket_ToAnH2cCluster_IsIgnored_AndTheRequestProxiedPlain_NeverA502(string upgrade)
    {
        await using var upstream = await StreamUpstream.StartAsync();
        var capture = new CapturingLoggerProvider();
        await using var backend = await RecordingBackend.StartAsync();
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, HostileGateway.NoRedis,
            RouteFiles.WriteTemp(HostileGateway.OpenRoutes("upgrade")), b => b.Logging.AddProvider(capture),
            [$"--Backend:H2cUrl={upstream.H2cUrl}"]);
        int port = new Uri(gateway.BaseUrl).Port;

        var response = await RawHttp.SendAsync(port,
            $"GET /a/plain HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: {upgrade}\r\nX-Test-Stream: upgrade\r\n\r\n", TimeSpan.FromSeconds(3));

        // The upstream has no /a/plain: its 404, over HTTP/2, with no Upgrade, is the plain request arriving.
        Assert.True(response.Status == 404, response.Text);
        var received = Assert.Single(upstream.Received, r => r.Path == "/a/plain");
        Assert.Equal("HTTP/2", received.Protocol);
        Assert.DoesNotContain(received.Headers.Keys, k => k.Equals("Upgrade", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(capture.Entries, e => e.Level >= LogLevel.Warning
            && (e.Category.StartsWith("Gateway.Proxy", StringComparison.Ordinal) || e.Category.StartsWith("Yarp", StringComparison.Ordinal)));
        string metrics = await gateway.AdminClient.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
        Assert.DoesNotContain("gateway_proxy_errors_total{", metrics);
    }

    private const string GoodKey = "dGhlIHNhbXBsZSBub25jZQ==";   // RFC 6455's example: 16 bytes in base64

    [Theory]
    [InlineData("h2c", "Sec-WebSocket-Key: not-a-key\r\nSec-WebSocket-Version: 13\r\n")]
    [InlineData("h2c", "Sec-WebSocket-Version: 13\r\n")]
    [InlineData("h2c", "Sec-WebSocket-Key: " + GoodKey + "\r\nSec-WebSocket-Version: 8\r\n")]
    [InlineData("h2c", "Sec-WebSocket-Key: " + GoodKey + "\r\n")]
    [InlineData("h2c", "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\nSec-WebSocket-Version: 13\r\n")]
    [InlineData("http1", "Sec-WebSocket-Key: not-a-key\r\nSec-WebSocket-Version: 13\r\n")]
    [InlineData("http1", "Sec-WebSocket-Key: " + GoodKey + "\r\nSec-WebSocket-Version: 8\r\n")]
    public async Task AMalformedWebSocketOpening_Is400BadWebSocketHandshake_AtTheEdge_ForEveryCluster(string cluster, string handshake)
    {
        // To an h2c cluster YARP answered a bad key with a bare 400 and a Warning per request carrying the client's header;
        // an HTTP/1.1 cluster got the handshake to judge. Refused at the edge, alike, before anything is sent on.
        await using var upstream = await StreamUpstream.StartAsync();
        var capture = new CapturingLoggerProvider();
        await using var backend = await RecordingBackend.StartAsync();
        string[] args = cluster == "h2c" ? [$"--Backend:H2cUrl={upstream.H2cUrl}"] : [];
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, HostileGateway.NoRedis,
            RouteFiles.WriteTemp(HostileGateway.OpenRoutes("ws-handshake")), b => b.Logging.AddProvider(capture), args);
        int port = new Uri(gateway.BaseUrl).Port;

        var response = await RawHttp.SendAsync(port,
            $"GET /a/socket HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n{handshake}\r\n", TimeSpan.FromSeconds(2));

        Assert.True(response.Status == 400, response.Text);
        Assert.Contains("https://gateway.dev/problems/bad-websocket-handshake", response.Text);
        Assert.Contains("Sec-WebSocket-Version: 13", response.Text);
        Assert.DoesNotContain(upstream.Received, r => r.Path == "/a/socket");
        Assert.DoesNotContain(backend.Requests, r => r.Path == "/a/socket");
        Assert.DoesNotContain(capture.Entries, e => e.Level >= LogLevel.Warning
            && (e.Category.StartsWith("Gateway.Proxy", StringComparison.Ordinal) || e.Category.StartsWith("Yarp", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task AWellFormedWebSocketOpening_ToAnH2cCluster_ReachesTheUpstream()
    {
        await using var upstream = await StreamUpstream.StartAsync();
        await using var backend = await RecordingBackend.StartAsync();
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, HostileGateway.NoRedis,
            RouteFiles.WriteTemp(HostileGateway.OpenRoutes("ws-handshake")), null, [$"--Backend:H2cUrl={upstream.H2cUrl}"]);

        var response = await RawHttp.SendAsync(new Uri(gateway.BaseUrl).Port,
            $"GET /a/socket HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: {GoodKey}\r\nSec-WebSocket-Version: 13\r\n\r\n",
            TimeSpan.FromSeconds(2));

        Assert.DoesNotContain("bad-websocket-handshake", response.Text);
        Assert.Single(upstream.Received, r => r.Path == "/a/socket");
    }

    [Theory]
    [InlineData("websocket", true)]
    [InlineData("WebSocket", true)]
    [InlineData("SPDY/3.1", false)]
    [InlineData("h2c", false)]
    [InlineData(null, false)]
    public void OnlyAWebSocketUpgrade_IsAStream(string? upgrade, bool stream)
    {
        // Kestrel calls every request with "Connection: upgrade" upgradable: each was taken for a WebSocket, a stream off
        // the class's timeout, whatever it asked to upgrade to.
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        context.Features.Set<Microsoft.AspNetCore.Http.Features.IHttpUpgradeFeature>(new Upgradable());
        if (upgrade is not null) context.Request.Headers.Upgrade = upgrade;
        Assert.Equal(stream ? Gateway.Streams.StreamKind.WebSocket : Gateway.Streams.StreamKind.None, Gateway.Streams.StreamDetector.Detect(context));
    }

    private sealed class Upgradable : Microsoft.AspNetCore.Http.Features.IHttpUpgradeFeature
    {
        public bool IsUpgradableRequest => true;
        public Task<Stream> UpgradeAsync() => throw new NotSupportedException();
    }
}
