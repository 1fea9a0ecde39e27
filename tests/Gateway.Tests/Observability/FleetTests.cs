using System.Text.Json;
using Gateway.Observability.Fleet;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using TestInfrastructure;

namespace Gateway.Tests.Observability;

/// <summary>Two real gateways on one real Redis: each one's fleet view holds the other's traffic.</summary>
public sealed class FleetTests(RedisFixture redis)
{
    [Fact]
    public async Task FleetView_HoldsTheOtherInstancesTraffic_AndMarksItStaleOnceItStopsReporting()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var backend = await FakeSessionBackend.StartAsync();
        string routes = FleetTestRoutes.Create();
        var clockA = new ShiftedTimeProvider();
        string idA = "fleet-a-" + Guid.NewGuid().ToString("N")[..8], idB = "fleet-b-" + Guid.NewGuid().ToString("N")[..8];
        // The test publishes itself and moves A's clock; a long interval keeps a slow machine from making B stale early.
        const string Interval = "--Observability:Fleet:PublishInterval=00:01:00";
        await using var a = await GatewayInstance.StartAsync(backend.BaseUrl, redis.ConnectionString, routes,
            builder => builder.Services.AddSingleton<TimeProvider>(clockA), $"--Observability:Fleet:InstanceId={idA}", Interval);
        GatewayInstance? b = await GatewayInstance.StartAsync(backend.BaseUrl, redis.ConnectionString, routes, null, $"--Observability:Fleet:InstanceId={idB}", Interval);
        try
        {
            for (int i = 0; i < 7; i++) (await b.Client.GetAsync("/open/b", ct)).Dispose();
            for (int i = 0; i < 2; i++) (await a.Client.GetAsync("/open/a", ct)).Dispose();
            // Publish now rather than wait for the interval: the test stays independent of the machine's speed.
            Assert.True(await b.Get<FleetPublisher>().PublishOnceAsync());

            using (var doc = JsonDocument.Parse(await a.AdminClient.GetStringAsync("/gateway/stats?scope=fleet", ct)))
            {
                var fleet = doc.RootElement.GetProperty("fleet");
                Assert.True(fleet.GetProperty("fromRedis").GetBoolean());
                Assert.False(fleet.GetProperty("degraded").GetBoolean());
                Assert.Equal(idA, fleet.GetProperty("self").GetString());
                var self = Instance(fleet, idA);
                Assert.Equal(2, OpenCount(self));
                var other = Instance(fleet, idB);
                Assert.Equal("live", other.GetProperty("state").GetString());
                Assert.Equal(7, OpenCount(other));
                Assert.Equal(7, other.GetProperty("windows").GetProperty("1m").GetProperty("clusters").GetProperty("backend").GetProperty("count").GetInt64());
                // Together: every live instance summed (other tests' gateways may share this Redis, so compare with the list).
                var together = fleet.GetProperty("aggregate").GetProperty("windows").GetProperty("1m").GetProperty("routeClasses").GetProperty("open").GetProperty("count").GetInt64();
                Assert.Equal(SumOfLive(fleet, "open"), together);
                Assert.True(together >= 9);
            }

            await b.DisposeAsync();
            b = null;
            // A's clock passes two publish intervals (B's summary is still in Redis: its TTL is three, in real time).
            clockA.Advance(TimeSpan.FromSeconds(121));

            using (var doc = JsonDocument.Parse(await a.AdminClient.GetStringAsync("/gateway/stats?scope=fleet", ct)))
            {
                var fleet = doc.RootElement.GetProperty("fleet");
                var other = Instance(fleet, idB);
                Assert.Equal("stale", other.GetProperty("state").GetString());
                Assert.True(other.GetProperty("ageSeconds").GetDouble() >= 120);
                // A stale instance is listed apart but no longer counted in the whole (15 minutes: A's clock moved past 1).
                var together = fleet.GetProperty("aggregate").GetProperty("windows").GetProperty("15m").GetProperty("routeClasses").GetProperty("open").GetProperty("count").GetInt64();
                Assert.Equal(SumOfLive(fleet, "open", "15m"), together);
                Assert.True(together >= 2);
            }
        }
        finally
        {
            if (b is not null) await b.DisposeAsync();
        }
    }

    [Fact]
    public async Task FleetView_WithRedisDown_IsThisInstanceOnly_FlaggedDegraded_NotAnError()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var backend = await FakeSessionBackend.StartAsync();
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, $"127.0.0.1:{FreePort.Next()},abortConnect=false,connectTimeout=200",
            FleetTestRoutes.Create());
        (await gateway.Client.GetAsync("/open/x", ct)).Dispose();

        using var response = await gateway.AdminClient.GetAsync("/gateway/stats?scope=fleet", ct);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
        var fleet = doc.RootElement.GetProperty("fleet");
        Assert.True(fleet.GetProperty("degraded").GetBoolean());
        Assert.False(fleet.GetProperty("fromRedis").GetBoolean());
        Assert.Contains("Redis", fleet.GetProperty("degradedReason").GetString());
        var only = Assert.Single(fleet.GetProperty("instances").EnumerateArray());
        Assert.True(only.GetProperty("self").GetBoolean());
        Assert.Equal(1, OpenCount(only));
    }

    private static JsonElement Instance(JsonElement fleet, string id)
    {
        foreach (var i in fleet.GetProperty("instances").EnumerateArray())
            if (i.GetProperty("id").GetString() == id) return i;
        throw new Xunit.Sdk.XunitException($"instance {id} missing from the fleet view: {fleet.GetRawText()}");
    }

    private static long OpenCount(JsonElement instance) =>
        instance.GetProperty("windows").GetProperty("1m").GetProperty("routeClasses").GetProperty("open").GetProperty("count").GetInt64();

    private static long SumOfLive(JsonElement fleet, string routeClass, string window = "1m")
    {
        long sum = 0;
        foreach (var i in fleet.GetProperty("instances").EnumerateArray())
        {
            if (i.GetProperty("state").GetString() != "live") continue;
            if (i.GetProperty("windows").GetProperty(window).GetProperty("routeClasses").TryGetProperty(routeClass, out var c)) sum += c.GetProperty("count").GetInt64();
        }
        return sum;
    }
}
