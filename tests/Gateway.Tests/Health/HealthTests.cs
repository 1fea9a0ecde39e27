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
