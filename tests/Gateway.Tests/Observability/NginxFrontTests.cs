using System.Net;
using System.Text.RegularExpressions;
using Gateway.Tests.Support;
using TestInfrastructure;

namespace Gateway.Tests.Observability;

/// <summary>
/// Issue 14.5 through a real nginx (Debian <c>nginx-light</c>) running the shipped <c>config/nginx-gateways.conf</c>,
/// pointed at a test gateway: every request reaches the gateway from 127.0.0.1, which must not make anyone an operator.
/// </summary>
public sealed partial class NginxFrontTests
{
    private const string NginxBinary = "/usr/sbin/nginx";

    [Fact]
    public async Task BehindTheShippedNginxConfig_OperatorPathsAre404_AndTheOperatorListenerStillAnswersLocally()
    {
        ExternalProcess.RequireBinary(NginxBinary, "nginx-light");
        await using var backend = await FakeSessionBackend.StartAsync();
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, "127.0.0.1:1,abortConnect=false", RouteFiles.CreateTemp());
        string dir = Directory.CreateTempSubdirectory("gwtest-nginx-").FullName;
        int port = FreePort.Next();
        await File.WriteAllTextAsync(Path.Combine(dir, "nginx.conf"), ShippedConfigFor(dir, port, new Uri(gateway.BaseUrl).Port));
        try
        {
            await using var nginx = ExternalProcess.Start(NginxBinary, ["-p", dir, "-c", Path.Combine(dir, "nginx.conf"), "-g", "daemon off;"]);
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };
            await Poll.UntilAsync(async () =>
            {
                Assert.False(nginx.HasExited, "nginx exited: " + nginx.Output);
                try { return (await http.GetAsync("/health")).StatusCode == HttpStatusCode.OK; }
                catch (HttpRequestException) { return false; }
            }, "nginx proxies /health to the gateway");

            foreach (var path in new[] { "/gateway/status", "/gateway/stats", "/gateway/dashboard", "/gateway/config", "/metrics" })
            {
                using var response = await http.GetAsync(path);
                Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{path} through nginx: {(int)response.StatusCode}");
            }
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await gateway.AdminClient.GetAsync("/gateway/status")).StatusCode);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The shipped file with its paths moved into <paramref name="dir"/>, its listen port and one upstream: the gateway.</summary>
    private static string ShippedConfigFor(string dir, int listenPort, int gatewayPort)
    {
        string text = File.ReadAllText(RepoPaths.Combine("config", "nginx-gateways.conf"));
        text = text.Replace("/tmp/nginx-gw", dir);
        text = Regex.Replace(text, @"listen 127\.0\.0\.1:\d+;", $"listen 127.0.0.1:{listenPort};");
        text = UpstreamServers().Replace(text, m => m.Groups[1].Value == "8080" ? m.Value.Replace(":8080", ":" + gatewayPort) : "");
        Assert.Contains($"127.0.0.1:{gatewayPort}", text);
        return text;
    }

    [GeneratedRegex(@"server 127\.0\.0\.1:(\d+)[^;]*;")]
    private static partial Regex UpstreamServers();
}
