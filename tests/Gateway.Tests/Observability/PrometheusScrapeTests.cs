using System.Text.Json;
using TestInfrastructure;

namespace Gateway.Tests.Observability;

/// <summary>Runs a real Prometheus (Debian package) against a test host and reads the series back through its API.</summary>
public sealed class PrometheusScrapeTests
{
    private const string PrometheusBinary = "/usr/bin/prometheus";

    [Fact]
    public async Task Prometheus_ScrapesTheGatewaySeries()
    {
        ExternalProcess.RequireBinary(PrometheusBinary, "prometheus");
        await using var host = await ObservabilityTestHost.StartAsync();
        (await host.GetAsync("/t?tier=critical-auth&route=login&session=l1")).Dispose();

        string dir = Directory.CreateTempSubdirectory("gwobs-prometheus-").FullName;
        int port = FreePort.Next();
        string config = Path.Combine(dir, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: gateway
                metrics_path: /metrics
                static_configs:
                  - targets: ["{new Uri(host.BaseUrl).Authority}"]
            """, TestContext.Current.CancellationToken);
        try
        {
            await using var prometheus = ExternalProcess.Start(PrometheusBinary,
            [
                "--config.file=" + config,
                "--storage.tsdb.path=" + Path.Combine(dir, "data"),
                "--web.listen-address=127.0.0.1:" + port,
                "--log.level=warn",
            ]);
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            string query = $"http://127.0.0.1:{port}/api/v1/query?query="
                + Uri.EscapeDataString("gateway_request_duration_seconds_count{tier=\"critical-auth\",route_class=\"login\"}");

            var deadline = DateTime.UtcNow.AddSeconds(60);
            string? value = null;
            while (value is null)
            {
                Assert.False(prometheus.HasExited, "prometheus exited: " + prometheus.Output);
                Assert.True(DateTime.UtcNow < deadline, "Prometheus did not report the gateway series within 60 s: " + prometheus.Output);
                value = await TryQueryAsync(http, query);
                if (value is null) await Task.Delay(250, TestContext.Current.CancellationToken);
            }
            Assert.Equal("1", value);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The first result's value, or null while Prometheus is starting or has not scraped yet.</summary>
    private static async Task<string?> TryQueryAsync(HttpClient http, string query)
    {
        try
        {
            using var doc = JsonDocument.Parse(await http.GetStringAsync(query));
            var result = doc.RootElement.GetProperty("data").GetProperty("result");
            return result.GetArrayLength() == 0 ? null : result[0].GetProperty("value")[1].GetString();
        }
        catch (HttpRequestException)
        {
            return null;
        }
        catch (TaskCanceledException)
        {
            return null;
        }
    }
}
