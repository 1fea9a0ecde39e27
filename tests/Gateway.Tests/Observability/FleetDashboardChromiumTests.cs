using Gateway.Observability.Fleet;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using TestInfrastructure;

namespace Gateway.Tests.Observability;

/// <summary>
/// Two real gateways on one real Redis with real traffic; one's dashboard in headless Debian Chromium shows both in its
/// fleet section, the breakdowns and the budget validation. Saves the screenshot README shows
/// (<c>TestResults/artifacts/dashboard-fleet.png</c>; copied to docs/images/dashboard.png by hand).
/// </summary>
public sealed class FleetDashboardChromiumTests(RedisFixture redis)
{
    [Fact]
    public async Task Dashboard_FleetSectionShowsBothInstances_WithBreakdownsAndValidation()
    {
        ExternalProcess.RequireBinary("/usr/bin/chromium", "chromium");
        var ct = TestContext.Current.CancellationToken;
        await using var backend = await FakeSessionBackend.StartAsync();
        backend.Proxied = async context =>
        {
            // A slow upstream for the 1 ms class, a little jitter elsewhere, and a few 502s.
            if (context.Request.Path.StartsWithSegments("/tight")) await Task.Delay(12);
            else if (context.Request.Query.ContainsKey("slow")) await Task.Delay(int.Parse(context.Request.Query["slow"]!, System.Globalization.CultureInfo.InvariantCulture));
            if (context.Request.Query.ContainsKey("fail")) context.Response.StatusCode = 502;
            await context.Response.WriteAsync("ok");
        };
        string routes = FleetTestRoutes.Create();
        // One moved clock for both, so minutes of history are laid down at once and neither looks stale to the other.
        var clock = new ShiftedTimeProvider();
        string idA = "edge-a-" + Guid.NewGuid().ToString("N")[..6], idB = "edge-b-" + Guid.NewGuid().ToString("N")[..6];
        // The test publishes itself; a long interval keeps a loaded machine's slow page load from making either look stale.
        const string Interval = "--Observability:Fleet:PublishInterval=00:01:00";
        await using var a = await GatewayInstance.StartAsync(backend.BaseUrl, redis.ConnectionString, routes,
            builder => builder.Services.AddSingleton<TimeProvider>(clock), $"--Observability:Fleet:InstanceId={idA}", Interval);
        await using var b = await GatewayInstance.StartAsync(backend.BaseUrl, redis.ConnectionString, routes,
            builder => builder.Services.AddSingleton<TimeProvider>(clock), $"--Observability:Fleet:InstanceId={idB}", Interval);

        for (int round = 0; round < 24; round++)
        {
            foreach (var (gateway, share) in new[] { (a, 3), (b, 5) })
            {
                for (int i = 0; i < share; i++)
                {
                    string slow = round == 2 && i == 0 ? "?slow=400" : $"?slow={1 + (round + i) % 6}";   // one warm-up outlier
                    string fail = round % 7 == 3 && i == 1 ? "&fail=1" : "";
                    (await gateway.Client.GetAsync("/open/items" + slow + fail, ct)).Dispose();
                }
                (await gateway.Client.GetAsync("/roomy/report", ct)).Dispose();
                if (round >= 18) (await gateway.Client.GetAsync("/tight/ping", ct)).Dispose();
                (await gateway.Client.GetAsync("/orgs/1", ct)).Dispose();   // no session: 401
            }
            if (round < 23) clock.Advance(TimeSpan.FromSeconds(10));
        }
        Assert.True(await b.Get<FleetPublisher>().PublishOnceAsync());
        Assert.True(await a.Get<FleetPublisher>().PublishOnceAsync());

        string url = a.AdminUrl + "/gateway/dashboard";
        string profile = Directory.CreateTempSubdirectory("gwobs-chromium-").FullName;
        try
        {
            string dom = await DashboardChromiumTests.RunChromiumAsync(profile, ["--dump-dom", url]);

            Assert.Contains("data-state=\"live\"", dom);
            int fleetAt = dom.IndexOf("id=\"fleet\"", StringComparison.Ordinal);
            string fleet = fleetAt < 0 ? dom : dom.Substring(fleetAt, Math.Min(3000, dom.Length - fleetAt));
            Assert.True(dom.Contains($"data-instance=\"{idA}\" data-state=\"live\""), fleet);
            Assert.True(dom.Contains($"data-instance=\"{idB}\" data-state=\"live\""), fleet);
            Assert.Contains("data-degraded=\"false\"", dom);
            Assert.Contains("data-class=\"open\"", dom);
            Assert.Contains("data-cluster=\"backend\"", dom);
            // Each destination's health from the status section 'clusters' (issue 17): the one-destination shorthand too.
            Assert.Matches("data-destination=\"backend/[^\"]+\" data-available=\"true\"", dom);
            Assert.Contains("data-validate=\"class:tight\" data-result-1m=\"fail\"", dom);
            Assert.Contains("data-validate=\"class:roomy\" data-result-1m=\"pass\"", dom);
            Assert.True(DashboardChromiumTests.PointsOf(dom, "chart-latency-standard") > 0, "the standard latency chart has no points");
            // The 400 ms warm-up outlier does not set the axis: it is clipped and labelled.
            Assert.Matches("id=\"chart-latency-standard\"[^>]*data-clipped=\"true\"|data-clipped=\"true\"[^>]*id=\"chart-latency-standard\"", dom);

            string artifacts = Path.Combine(AppContext.BaseDirectory, "TestResults", "artifacts");
            Directory.CreateDirectory(artifacts);
            string png = Path.Combine(artifacts, "dashboard-fleet.png");
            File.Delete(png);
            await DashboardChromiumTests.RunChromiumAsync(profile, ["--screenshot=" + png, "--window-size=1500,1750", url]);
            Assert.True(new FileInfo(png) is { Exists: true, Length: > 10_000 }, "no readable screenshot written");
        }
        finally
        {
            Directory.Delete(profile, recursive: true);
        }
    }
}
