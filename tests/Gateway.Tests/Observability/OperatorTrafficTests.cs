using System.Text.Json;
using Gateway.Tests.Support;
using TestInfrastructure;

namespace Gateway.Tests.Observability;

/// <summary>The operator's own requests stay out of the figures that judge client traffic.</summary>
public sealed class OperatorTrafficTests(RedisFixture redis)
{
    [Fact]
    public async Task DashboardPollingAndScrapes_AreNotCountedInAnyTier_NorInTheRequestHistogram()
    {
        await using var backend = await FakeSessionBackend.StartAsync();
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, redis.ConnectionString, RouteFiles.CreateTemp());

        for (int i = 0; i < 20; i++)
        {
            (await gateway.AdminClient.GetAsync("/gateway/status", TestContext.Current.CancellationToken)).Dispose();
            (await gateway.AdminClient.GetAsync("/metrics", TestContext.Current.CancellationToken)).Dispose();
        }

        using var stats = JsonDocument.Parse(await gateway.AdminClient.GetStringAsync("/gateway/stats", TestContext.Current.CancellationToken));
        foreach (var tier in stats.RootElement.GetProperty("tiers").EnumerateObject())
            Assert.Equal(0, tier.Value.GetProperty("windows").GetProperty("1m").GetProperty("count").GetInt64());
        string metrics = await gateway.AdminClient.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
        Assert.DoesNotContain("gateway_request_duration_seconds_count{", metrics);
    }
}
