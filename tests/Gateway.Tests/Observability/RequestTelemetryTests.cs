using System.Net;
using System.Text.Json;
using Gateway.Observability;
using Microsoft.Extensions.DependencyInjection;
using TestInfrastructure;

namespace Gateway.Tests.Observability;

public sealed class RequestTelemetryTests
{
    [Fact]
    public async Task Response_CarriesRequestIdResponseTimeRouteClassAndCache()
    {
        await using var host = await ObservabilityTestHost.StartAsync();

        using var response = await host.GetAsync("/t?tier=ultra-fast&route=public-config&cache=HIT");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        string id = Assert.Single(response.Headers.GetValues("X-Request-Id"));
        Assert.Matches("^[0-9a-f]{32}$", id);
        string time = Assert.Single(response.Headers.GetValues("X-Response-Time"));
        Assert.Matches(@"^\d+\.\d{3}$", time);
        Assert.Equal("public-config", Assert.Single(response.Headers.GetValues("X-Route-Class")));
        Assert.Equal("HIT", Assert.Single(response.Headers.GetValues("X-Cache")));
    }

    [Theory]
    [InlineData("abc-123_X.y", true)]
    [InlineData("has space", false)]
    [InlineData("<script>", false)]
    public async Task IncomingRequestId_IsKeptOnlyWhenWellFormed(string incoming, bool kept)
    {
        await using var host = await ObservabilityTestHost.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/t");
        request.Headers.TryAddWithoutValidation("X-Request-Id", incoming);

        using var response = await host.Client.SendAsync(request, TestContext.Current.CancellationToken);

        string id = Assert.Single(response.Headers.GetValues("X-Request-Id"));
        if (kept) Assert.Equal(incoming, id);
        else Assert.Matches("^[0-9a-f]{32}$", id);
    }

    [Fact]
    public async Task RequestId_IsForwardedToTheBackend()
    {
        await using var backend = await RecordingBackend.StartAsync();
        await using var host = await ObservabilityTestHost.StartAsync();

        using var response = await host.GetAsync("/t?forward=" + Uri.EscapeDataString(backend.BaseUrl + "/echo"));

        string id = Assert.Single(response.Headers.GetValues("X-Request-Id"));
        var recorded = Assert.Single(backend.Requests);
        Assert.Equal(id, recorded.Headers["X-Request-Id"]);
    }

    [Fact]
    public async Task Stats_ReportPerTierWindowsAndCacheRatios()
    {
        await using var host = await ObservabilityTestHost.StartAsync();
        for (int i = 0; i < 4; i++) (await host.GetAsync("/t?tier=critical-auth&route=login&session=l1&cache=HIT")).Dispose();
        (await host.GetAsync("/t?tier=critical-auth&route=login&session=l2&cache=MISS&status=500")).Dispose();

        using var doc = JsonDocument.Parse(await host.Client.GetStringAsync("/gateway/stats", TestContext.Current.CancellationToken));

        var tier = doc.RootElement.GetProperty("tiers").GetProperty("critical-auth");
        Assert.Equal(50, tier.GetProperty("budgetMs").GetDouble());
        var minute = tier.GetProperty("windows").GetProperty("1m");
        Assert.Equal(5, minute.GetProperty("count").GetInt64());
        Assert.Equal(0.2, minute.GetProperty("errorRate").GetDouble(), 4);
        Assert.True(minute.GetProperty("p99").GetDouble() > 0);
        Assert.True(tier.GetProperty("windows").TryGetProperty("15m", out _));
        var cache = doc.RootElement.GetProperty("cache").GetProperty("1m");
        Assert.Equal(0.8, cache.GetProperty("response").GetProperty("hitRatio").GetDouble(), 4);
        Assert.Equal(0.8, cache.GetProperty("session").GetProperty("l1").GetProperty("ratio").GetDouble(), 4);
        Assert.Equal(0.2, cache.GetProperty("session").GetProperty("l2").GetProperty("ratio").GetDouble(), 4);
        var history = doc.RootElement.GetProperty("history");
        Assert.Equal(10, history.GetProperty("stepSeconds").GetInt32());
        Assert.Equal(90, history.GetProperty("steps").GetInt32());
        // Only filled steps, as [step, value] pairs: the traffic sits in the newest step, nothing else is listed (no nulls).
        var p99 = history.GetProperty("tiers").GetProperty("critical-auth").GetProperty("p99");
        var only = Assert.Single(p99.EnumerateArray());
        Assert.True(only[0].GetInt32() >= 88);
        Assert.True(only[1].GetDouble() > 0);
        Assert.DoesNotContain("null", history.GetRawText());
    }

    [Fact]
    public async Task Stats_BreakDownByRouteClassAndCluster_AndCount401And429AndShedPerTier()
    {
        await using var host = await ObservabilityTestHost.StartAsync();
        (await host.GetAsync("/t?tier=standard&route=orgs&cluster=backend")).Dispose();
        (await host.GetAsync("/t?tier=standard&route=orgs&cluster=backend&status=401")).Dispose();
        (await host.GetAsync("/t?tier=standard&route=audit&cluster=audit-svc&status=429")).Dispose();
        (await host.GetAsync("/t?tier=standard&route=audit&cluster=audit-svc&status=503&shed=1")).Dispose();
        (await host.GetAsync("/t?tier=standard&route=audit&cluster=audit-svc&status=503")).Dispose();

        using var doc = JsonDocument.Parse(await host.Client.GetStringAsync("/gateway/stats", TestContext.Current.CancellationToken));

        var tier = doc.RootElement.GetProperty("tiers").GetProperty("standard").GetProperty("windows").GetProperty("1m");
        Assert.Equal(5, tier.GetProperty("count").GetInt64());
        Assert.Equal(1, tier.GetProperty("unauthorized").GetInt64());
        Assert.Equal(1, tier.GetProperty("rateLimited").GetInt64());
        Assert.Equal(1, tier.GetProperty("shed").GetInt64());   // the backend's own 503 is an error, not a shed
        Assert.Equal(2, tier.GetProperty("errors").GetInt64());
        var classes = doc.RootElement.GetProperty("routeClasses");
        Assert.Equal(2, classes.GetProperty("orgs").GetProperty("windows").GetProperty("1m").GetProperty("count").GetInt64());
        Assert.Equal(3, classes.GetProperty("audit").GetProperty("windows").GetProperty("1m").GetProperty("count").GetInt64());
        var clusters = doc.RootElement.GetProperty("clusters");
        Assert.Equal(2, clusters.GetProperty("backend").GetProperty("windows").GetProperty("1m").GetProperty("count").GetInt64());
        Assert.Equal(2.0 / 3, clusters.GetProperty("audit-svc").GetProperty("windows").GetProperty("1m").GetProperty("errorRate").GetDouble(), 3);
    }

    [Fact]
    public async Task Metrics_ExposeRequestDurationOverBudgetAndBreakerState()
    {
        await using var host = await ObservabilityTestHost.StartAsync(services: s =>
            s.AddSingleton<IBreakerStateSource>(new FixedBreakers(new BreakerStateInfo("backend-cluster", BreakerState.Open))));
        (await host.GetAsync("/t?tier=ultra-fast&route=ping&delay=20")).Dispose();

        string text = await host.Client.GetStringAsync("/metrics", TestContext.Current.CancellationToken);

        Assert.Contains("gateway_request_duration_seconds_count{tier=\"ultra-fast\",route_class=\"ping\",status_class=\"2xx\"} 1", text);
        Assert.Contains("gateway_request_over_budget_total{tier=\"ultra-fast\",route_class=\"ping\"} 1", text);
        Assert.Contains("gateway_breaker_state{name=\"backend-cluster\"} 2", text);
        // ASP.NET Core's and HttpClient's per-request instruments repeat gateway_request_duration: not exported unless listed.
        Assert.DoesNotContain("http_server_request_duration_seconds", text);
        Assert.Contains("kestrel_active_connections", text);
        PrometheusExporterTests.AssertValidExposition(text);
    }

    [Fact]
    public async Task Metrics_ExportTheFrameworkMetersAnOperatorLists()
    {
        await using var host = await ObservabilityTestHost.StartAsync(settings: new()
        {
            ["Observability:Meters:0"] = "Gateway",
            ["Observability:Meters:1"] = "Microsoft.AspNetCore.Hosting",
        });
        (await host.GetAsync("/t?tier=ultra-fast&route=ping")).Dispose();

        string text = "";
        await Poll.UntilAsync(async () => (text = await host.Client.GetStringAsync("/metrics")).Contains("http_server_request_duration_seconds_bucket{"),
            "the hosting meter is exported once listed");
        Assert.Contains("gateway_request_duration_seconds_count{", text);
        Assert.DoesNotContain("kestrel_active_connections", text);
    }

    [Fact]
    public async Task Status_AggregatesContributors()
    {
        await using var host = await ObservabilityTestHost.StartAsync(services: s =>
        {
            s.AddSingleton<IBreakerStateSource>(new FixedBreakers(new BreakerStateInfo("backend-cluster", BreakerState.HalfOpen)));
            s.AddSingleton<IConfigStatusSource>(new FixedConfig());
            s.AddSingleton<IStatusContributor>(new BrokenContributor());
        });

        using var doc = JsonDocument.Parse(await host.Client.GetStringAsync("/gateway/status", TestContext.Current.CancellationToken));

        var config = doc.RootElement.GetProperty("config");
        Assert.Equal("v7", config.GetProperty("version").GetString());
        Assert.Equal("failed", config.GetProperty("lastReloadResult").GetString());
        Assert.Equal("Route 'x' needs a path.", config.GetProperty("errors")[0].GetString());
        Assert.Equal("not-reported", doc.RootElement.GetProperty("backend").GetProperty("state").GetString());
        var breakers = doc.RootElement.GetProperty("breakers");
        Assert.True(breakers.GetProperty("anyOpen").GetBoolean());
        Assert.Equal("half-open", breakers.GetProperty("states")[0].GetProperty("state").GetString());
        var broken = doc.RootElement.GetProperty("broken");
        Assert.False(broken.GetProperty("healthy").GetBoolean());
        Assert.Equal("InvalidOperationException", broken.GetProperty("error").GetString());
    }

    private sealed class BrokenContributor : IStatusContributor
    {
        public string Name => "broken";

        public void WriteStatus(Utf8JsonWriter writer)
        {
            writer.WriteStartObject();
            writer.WriteString("partial", "yes");
            throw new InvalidOperationException("secret detail");
        }
    }

    [Fact]
    public async Task OperatorEndpoints_RequireTheAdminKeyWhenLoopbackIsNotTrusted()
    {
        const string key = "0123456789abcdef-admin";
        await using var host = await ObservabilityTestHost.StartAsync(new Dictionary<string, string?>
        {
            ["Admin:Key"] = key,
            ["Admin:AllowLoopback"] = "false",
        });

        foreach (var path in new[] { "/metrics", "/gateway/status", "/gateway/stats", "/gateway/dashboard" })
        {
            using var denied = await host.Client.GetAsync(path, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
            Assert.Equal("application/problem+json", denied.Content.Headers.ContentType?.MediaType);

            using var wrong = new HttpRequestMessage(HttpMethod.Get, path);
            wrong.Headers.Add("X-Admin-Key", key + "x");
            using var wrongResponse = await host.Client.SendAsync(wrong, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.Forbidden, wrongResponse.StatusCode);

            using var allowed = new HttpRequestMessage(HttpMethod.Get, path);
            allowed.Headers.Add("X-Admin-Key", key);
            using var allowedResponse = await host.Client.SendAsync(allowed, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, allowedResponse.StatusCode);

            using var viaAuthorization = new HttpRequestMessage(HttpMethod.Get, path);
            viaAuthorization.Headers.TryAddWithoutValidation("Authorization", "AdminKey " + key);
            using var viaAuthorizationResponse = await host.Client.SendAsync(viaAuthorization, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, viaAuthorizationResponse.StatusCode);

            using var bearer = new HttpRequestMessage(HttpMethod.Get, path);
            bearer.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
            using var bearerResponse = await host.Client.SendAsync(bearer, TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.Forbidden, bearerResponse.StatusCode);
        }
    }

    private sealed class FixedBreakers(params BreakerStateInfo[] states) : IBreakerStateSource
    {
        public IReadOnlyList<BreakerStateInfo> GetBreakerStates() => states;
    }

    private sealed class FixedConfig : IConfigStatusSource
    {
        public ConfigStatusSnapshot GetConfigStatus() =>
            new("v7", DateTimeOffset.UnixEpoch, false, ["Route 'x' needs a path."]);
    }
}
