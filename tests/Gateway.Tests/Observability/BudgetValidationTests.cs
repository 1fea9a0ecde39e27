using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Gateway.Tests.Support;
using TestInfrastructure;

namespace Gateway.Tests.Observability;

/// <summary><c>/gateway/validate</c> on a real gateway: a class its slow backend keeps over budget fails, a roomy one passes.</summary>
public sealed class BudgetValidationTests(RedisFixture redis)
{
    [Fact]
    public async Task Validate_FailsTheClassOverItsBudget_PassesTheOneWithin_AndSaysNoDataWithoutTraffic()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var backend = await FakeSessionBackend.StartAsync();
        // 30 ms upstream against a 1 ms budget: over, whatever the machine's speed.
        backend.Proxied = async context =>
        {
            if (context.Request.Path.StartsWithSegments("/tight")) await Task.Delay(30);
            await context.Response.WriteAsync("ok");
        };
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, redis.ConnectionString, FleetTestRoutes.Create());
        for (int i = 0; i < 5; i++)
        {
            (await gateway.Client.GetAsync("/tight/x", ct)).Dispose();
            (await gateway.Client.GetAsync("/roomy/x", ct)).Dispose();
        }

        using var doc = JsonDocument.Parse(await gateway.AdminClient.GetStringAsync("/gateway/validate", ct));
        var root = doc.RootElement;

        Assert.False(root.GetProperty("pass").GetBoolean());
        Assert.Equal("fail", root.GetProperty("result").GetString());
        var tight = root.GetProperty("routeClasses").GetProperty("tight");
        Assert.Equal(1, tight.GetProperty("budgetMs").GetDouble());
        foreach (var window in new[] { "1m", "15m" })
        {
            var w = tight.GetProperty("windows").GetProperty(window);
            Assert.Equal("fail", w.GetProperty("result").GetString());
            Assert.Equal(5, w.GetProperty("count").GetInt64());
            Assert.True(w.GetProperty("p99").GetDouble() > 1);
            Assert.Equal(0, w.GetProperty("compliance").GetDouble());
        }
        var roomy = root.GetProperty("routeClasses").GetProperty("roomy").GetProperty("windows").GetProperty("1m");
        Assert.Equal("pass", roomy.GetProperty("result").GetString());
        Assert.Equal(100, roomy.GetProperty("compliance").GetDouble());
        // Configured classes without traffic are listed, without a verdict.
        Assert.Equal("no-data", root.GetProperty("routeClasses").GetProperty("auth-anonymous").GetProperty("windows").GetProperty("1m").GetProperty("result").GetString());
        // Tiers are judged too, by the same rule (a cold first request on a loaded machine may miss 200 ms: compare, not assume).
        var standard = root.GetProperty("tiers").GetProperty("standard").GetProperty("windows").GetProperty("1m");
        Assert.Equal(10, standard.GetProperty("count").GetInt64());
        Assert.Equal(standard.GetProperty("p99").GetDouble() <= 200 ? "pass" : "fail", standard.GetProperty("result").GetString());
        Assert.Equal(200, standard.GetProperty("targetP99").GetDouble());
    }
}
