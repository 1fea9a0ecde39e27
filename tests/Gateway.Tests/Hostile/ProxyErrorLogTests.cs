using System.Net;
using Gateway.Tests.Observability;
using Gateway.Tests.Support;
using Microsoft.Extensions.Logging;
using TestInfrastructure;

namespace Gateway.Tests.Hostile;

/// <summary>
/// A client that garbles or abandons its upload cannot make the gateway write a log line with a stack trace per request
/// (YARP's forwarder did: a Warning of 5-14 KB each, ~0.5 MB/s from one client at its rate limit). Forwarder failures
/// are counted on gateway.proxy.errors, logged at Debug per request when the client caused them, and otherwise only in
/// a throttled line; a backend's failures stay Warnings with their exception, throttled too.
/// </summary>
public sealed class ProxyErrorLogTests
{
    private const int PerWindow = 3;

    private static async Task<(RecordingBackend Backend, GatewayInstance Gateway)> StartAsync(CapturingLoggerProvider capture, string version)
    {
        var backend = await RecordingBackend.StartAsync();
        // Production log levels (the gateway's own defaults), plus Debug for the proxy stage to see its per-request line.
        var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, HostileGateway.NoRedis, RouteFiles.WriteTemp(HostileGateway.OpenRoutes(version)),
            b => b.Logging.AddProvider(capture),
            $"--Observability:ProxyErrorLogsPerWindow={PerWindow}", "--Observability:ProxyErrorLogWindowSeconds=600",
            "--Logging:LogLevel:Gateway.Proxy.ProxyStage=Debug");
        return (backend, gateway);
    }

    private static bool FromTheForwarder(CapturedLog e) =>
        e.Category.StartsWith("Yarp.ReverseProxy.Forwarder", StringComparison.Ordinal) || e.Category == "Gateway.Proxy.ProxyStage";

    [Fact]
    public async Task FiftyMalformedUploads_LogAtMostTheThrottlesBound_WithoutStackTraces_AndAllAreCounted()
    {
        var capture = new CapturingLoggerProvider();
        var (backend, gateway) = await StartAsync(capture, "bad-chunks");
        await using var _ = backend;
        await using var __ = gateway;
        int port = new Uri(gateway.BaseUrl).Port;
        Assert.Equal(HttpStatusCode.OK, (await gateway.Client.GetAsync("/a/warm-up", TestContext.Current.CancellationToken)).StatusCode);

        const int uploads = 50;
        for (int i = 0; i < uploads; i++)
        {
            // A valid first chunk, then a chunk size that is not hex: Kestrel fails the body while YARP copies it upstream.
            var response = await RawHttp.SendAsync(port,
                "POST /a/upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nZZ\r\n", TimeSpan.FromSeconds(5));
            Assert.True(response.Status == 400, response.Text);
        }

        var entries = capture.Entries.Where(FromTheForwarder).ToList();
        string Describe() => string.Join("\n", entries.Select(e => $"{e.Level} {e.Category} {e.EventId.Name} {e.Message} [{e.Exception?.Length ?? 0} chars of exception]"));
        // Above Debug: only the throttle's lines, at most PerWindow of them, none with an exception.
        var visible = entries.Where(e => e.Level > LogLevel.Debug).ToList();
        Assert.True(visible.Count <= PerWindow, Describe());
        Assert.NotEmpty(visible);   // operators still learn that clients fail this way
        Assert.All(visible, e =>
        {
            Assert.Equal(LogLevel.Information, e.Level);
            Assert.Equal("ClientProxyErrors", e.EventId.Name);
            Assert.Contains("RequestBodyClient", e.Message);
            Assert.Contains("Bad chunk size data", e.Message);
        });
        // Per request: Debug, with the reason but never a stack trace.
        Assert.Equal(uploads, entries.Count(e => e.Level == LogLevel.Debug && e.EventId.Name == "ClientProxyError"));
        Assert.All(entries, e => Assert.Null(e.Exception));
        Assert.DoesNotContain(capture.Entries, e => e.Level >= LogLevel.Warning && (e.Exception ?? "").Contains("Bad chunk size data"));

        string expected = "gateway_proxy_errors_total{cluster=\"backend\",error=\"RequestBodyClient\",cause=\"client\"} " + uploads;
        string metrics = "";
        await Poll.UntilAsync(async () => (metrics = await gateway.AdminClient.GetStringAsync("/metrics")).Contains(expected),
            $"the metric counts all {uploads} failures");
    }

    [Fact]
    public async Task ABackendThatRefusesConnections_IsStillLoggedAtWarningWithItsException_Throttled()
    {
        var capture = new CapturingLoggerProvider();
        var (backend, gateway) = await StartAsync(capture, "backend-down");
        await using var __ = gateway;
        Assert.Equal(HttpStatusCode.OK, (await gateway.Client.GetAsync("/a/warm-up", TestContext.Current.CancellationToken)).StatusCode);
        await backend.DisposeAsync();   // its port now refuses connections

        // Until health checks or the breaker take the cluster out (503, nothing forwarded), each request is a 502.
        int badGateways = 0;
        for (int i = 0; i < 10; i++)
        {
            using var response = await gateway.Client.GetAsync("/a/down", TestContext.Current.CancellationToken);
            if (response.StatusCode == HttpStatusCode.BadGateway) badGateways++;
        }
        Assert.True(badGateways > 0, "at least one request reached the forwarder while the backend was down");

        var warnings = capture.Entries.Where(e => e.Category == "Gateway.Proxy.ProxyStage" && e.EventId.Name == "BackendProxyError").ToList();
        Assert.InRange(warnings.Count, 1, PerWindow);
        Assert.All(warnings, e =>
        {
            Assert.Equal(LogLevel.Warning, e.Level);
            Assert.Contains("cluster 'backend'", e.Message);
            Assert.Contains("Request", e.Message);
            Assert.NotNull(e.Exception);   // the operator gets the exception: it says what failed (connection refused)
        });
        Assert.Contains("cause=\"backend\"", await gateway.AdminClient.GetStringAsync("/metrics", TestContext.Current.CancellationToken));
    }
}
