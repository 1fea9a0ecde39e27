using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Observability;

/// <summary>Loads the dashboard in headless Debian Chromium after traffic and checks that the charts drew data.</summary>
public sealed partial class DashboardChromiumTests
{
    private const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task Dashboard_RendersChartsWithData_AndSavesAScreenshot()
    {
        ExternalProcess.RequireBinary(Chromium, "chromium");
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await ObservabilityTestHost.StartAsync(services: s => s.AddSingleton<TimeProvider>(clock));
        await SendTrafficAsync(host, clock);
        string url = host.BaseUrl + "/gateway/dashboard";
        string profile = Directory.CreateTempSubdirectory("gwobs-chromium-").FullName;
        try
        {
            string dom = await RunChromiumAsync(profile, ["--dump-dom", url]);

            Assert.Contains("data-state=\"live\"", dom);
            Assert.True(PointsOf(dom, "chart-throughput") > 0, "throughput chart has no points");
            Assert.True(PointsOf(dom, "chart-errors") > 0, "error-rate chart has no points");
            Assert.True(PointsOf(dom, "chart-cache") > 0, "cache chart has no points");
            foreach (var tier in new[] { "ultra-fast", "critical-auth", "standard" })
            {
                Assert.True(PointsOf(dom, "chart-latency-" + tier) > 0, $"latency chart of {tier} has no points");
            }
            Assert.Contains("data-series=\"budget\"", dom);
            // The slow ultra-fast traffic is flagged over budget in the table.
            Assert.Matches("data-tier=\"ultra-fast\" data-over-budget=\"true\"", dom);

            string artifacts = Path.Combine(AppContext.BaseDirectory, "TestResults", "artifacts");
            Directory.CreateDirectory(artifacts);
            string png = Path.Combine(artifacts, "dashboard.png");
            File.Delete(png);
            await RunChromiumAsync(profile, ["--screenshot=" + png, "--window-size=1400,1000", url]);

            var info = new FileInfo(png);
            Assert.True(info.Exists, "no screenshot written");
            Assert.True(info.Length > 10_000, $"screenshot is only {info.Length} bytes");
            byte[] head = new byte[8];
            await using (var stream = File.OpenRead(png)) await stream.ReadExactlyAsync(head, TestContext.Current.CancellationToken);
            Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, head);
        }
        finally
        {
            Directory.Delete(profile, recursive: true);
        }
    }

    /// <summary>
    /// Five minutes of history in 10-second steps (the clock is moved, not waited for): ultra-fast degrades past its
    /// budget in the last minute, standard has a few 502s, cache hit ratios drift.
    /// </summary>
    private static async Task SendTrafficAsync(ObservabilityTestHost host, FakeTimeProvider clock)
    {
        const int rounds = 30;
        for (int r = 0; r < rounds; r++)
        {
            bool degraded = r >= rounds - 6;
            for (int i = 0; i < 4; i++)
            {
                string cache = (i + r) % 5 == 0 ? "MISS" : "HIT";
                string delay = degraded && i % 2 == 0 ? "&delay=9" : "";
                (await host.GetAsync($"/t?tier=ultra-fast&route=public-config&cache={cache}{delay}")).Dispose();
            }
            for (int i = 0; i < 3; i++)
            {
                string session = (i + r) % 7 == 0 ? "backend" : (i + r) % 4 == 0 ? "l2" : "l1";
                (await host.GetAsync($"/t?tier=critical-auth&route=session&session={session}&delay={1 + (r + i) % 4}")).Dispose();
            }
            for (int i = 0; i < 3; i++)
            {
                string status = r % 9 == 4 && i == 0 ? "&status=502" : "";
                (await host.GetAsync($"/t?tier=standard&route=users&session=l1&delay={4 + (r * 3 + i) % 12}{status}")).Dispose();
            }
            if (r < rounds - 1) clock.Advance(TimeSpan.FromSeconds(10));
        }
    }

    internal static async Task<string> RunChromiumAsync(string profile, string[] extra)
    {
        string[] args =
        [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
            "--user-data-dir=" + profile, "--virtual-time-budget=8000", .. extra,
        ];
        await using var chromium = ExternalProcess.Start(ExternalProcess.RequireBinary(Chromium, "chromium"), args);
        await chromium.WaitForSuccessAsync(TimeSpan.FromSeconds(120));
        return chromium.Output;
    }

    internal static int PointsOf(string dom, string id)
    {
        var match = Regex.Match(dom, "<svg[^>]*id=\"" + Regex.Escape(id) + "\"[^>]*>");
        Assert.True(match.Success, $"chart {id} missing from the DOM");
        var points = PointsAttribute().Match(match.Value);
        return points.Success ? int.Parse(points.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
    }

    [GeneratedRegex("data-points=\"(\\d+)\"")]
    private static partial Regex PointsAttribute();
}
