using System.Net;
using System.Text.Json;
using Gateway.Tests.Support;
using TestInfrastructure;

namespace Gateway.Tests.Health;

public sealed class HealthTests
{
    [Fact]
    public async Task Health_AnswersWithBackendAndRedisStopped()
    {
        await using var redis = await RedisServer.StartAsync();
        var backend = await FakeSessionBackend.StartAsync();
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, redis.ConnectionString, RouteFiles.CreateTemp());
        await backend.DisposeAsync();
        await redis.StopAsync();

        for (int i = 0; i < 3; i++)
        {
            var response = await gateway.Client.GetAsync("/health");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("{\"status\":\"ok\"}", await response.Content.ReadAsStringAsync());
        }
        await Poll.UntilAsync(async () => (await gateway.Client.GetAsync("/ready")).StatusCode == HttpStatusCode.ServiceUnavailable, "/ready is 503");
        Assert.Equal(HttpStatusCode.OK, (await gateway.Client.GetAsync("/health")).StatusCode);
    }

    [Fact]
    public async Task Probes_AreLeftOutOfTheHostingRequestDurationMetric_OtherRequestsAreNot()
    {
        await using var backend = await FakeSessionBackend.StartAsync();
        // The hosting meter is not exported by default (ObservabilityOptions.DefaultMeters): an operator lists it.
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, "127.0.0.1:1,abortConnect=false", RouteFiles.CreateTemp(),
            extraArgs: ["--Observability:Meters:0=Gateway", "--Observability:Meters:1=Microsoft.AspNetCore.Hosting"]);
        for (int i = 0; i < 5; i++) Assert.Equal(HttpStatusCode.OK, (await gateway.Client.GetAsync("/health")).StatusCode);
        (await gateway.AdminClient.GetAsync("/metrics")).EnsureSuccessStatusCode();   // recorded once it has completed

        string text = "";
        await Poll.UntilAsync(async () => (text = await gateway.AdminClient.GetStringAsync("/metrics")).Contains("http_server_request_duration_seconds_count{"),
            "the first scrape is recorded");
        var series = text.Split('\n').Where(l => l.StartsWith("http_server_request_duration_seconds_count{")).ToList();
        // A probe has no route; every recorded request here must be one that matched an endpoint (the scrape).
        Assert.All(series, l => Assert.Contains("http_route=\"/metrics\"", l));
    }

    [Theory]
    [InlineData("/health")]
    [InlineData("/ready")]
    public async Task HealthResponses_CarryRequestIdResponseTimeAndRouteClass(string path)
    {
        await using var backend = await FakeSessionBackend.StartAsync();
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, "127.0.0.1:1,abortConnect=false", RouteFiles.CreateTemp());

        var echoed = new HttpRequestMessage(HttpMethod.Get, path);
        echoed.Headers.Add("X-Request-Id", "probe-42.a_b");
        var response = await gateway.Client.SendAsync(echoed);
        Assert.Equal("probe-42.a_b", response.Headers.GetValues("X-Request-Id").Single());
        Assert.Equal("health", response.Headers.GetValues("X-Route-Class").Single());
        Assert.True(double.TryParse(response.Headers.GetValues("X-Response-Time").Single(), System.Globalization.CultureInfo.InvariantCulture, out _));

        var malformed = new HttpRequestMessage(HttpMethod.Get, path);
        malformed.Headers.TryAddWithoutValidation("X-Request-Id", "bad id with spaces");
        string generated = (await gateway.Client.SendAsync(malformed)).Headers.GetValues("X-Request-Id").Single();
        Assert.Matches("^[0-9a-f]{32}$", generated);
    }

    [Fact]
    public async Task Ready_Turns503WhenRedisStops_And200WhenItReturns()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var backend = await FakeSessionBackend.StartAsync();
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, redis.ConnectionString, RouteFiles.CreateTemp());

        await Poll.UntilAsync(async () => (await gateway.Client.GetAsync("/ready")).StatusCode == HttpStatusCode.OK, "/ready is 200");
        await redis.StopAsync();
        await Poll.UntilAsync(async () => (await gateway.Client.GetAsync("/ready")).StatusCode == HttpStatusCode.ServiceUnavailable, "/ready is 503");
        using (var body = JsonDocument.Parse(await (await gateway.Client.GetAsync("/ready")).Content.ReadAsStringAsync()))
        {
            Assert.Equal("not-ready", body.RootElement.GetProperty("status").GetString());
            Assert.Equal("redis", Assert.Single(body.RootElement.GetProperty("notReady").EnumerateArray()).GetString());
        }
        await redis.StartAsync();
        await Poll.UntilAsync(async () => (await gateway.Client.GetAsync("/ready")).StatusCode == HttpStatusCode.OK, "/ready is 200 again", TimeSpan.FromSeconds(30));
    }
}
