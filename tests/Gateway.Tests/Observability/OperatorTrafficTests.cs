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

    [Fact]
    public async Task OperatorEndpoints_AreServed_WhenTheRouteFileHasNoHealthClass_AndItsDefaultNeedsASession()
    {
        // Nothing requires a "health" class; the operator endpoints looked theirs up by that name and fell back to the
        // default class, whose session check answered every scrape 401 before the admin check ran.
        string routes = RouteFiles.CreateTemp(j => j["classes"]!.AsObject().Remove("health"));
        await using var backend = await FakeSessionBackend.StartAsync();
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, redis.ConnectionString, routes);

        foreach (var path in new[] { "/metrics", "/gateway/status", "/gateway/config", "/gateway/explain?path=/auth/me" })
        {
            using var response = await gateway.AdminClient.GetAsync(path, TestContext.Current.CancellationToken);
            Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)}");
            Assert.Equal("health", response.Headers.GetValues("X-Route-Class").Single());
        }
    }
}
