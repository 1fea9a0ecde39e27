using System.Diagnostics.Metrics;
using Gateway.Observability;
using Gateway.Observability.Prometheus;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Observability;

public sealed class GatewayMetricsTests
{
    [Fact]
    public async Task EveryGatewayInstrument_IsExportedWithItsPrometheusName()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = services.GetRequiredService<IMeterFactory>();
        using var exporter = new PrometheusExporter(new PrometheusExporterOptions { Meters = [GatewayMetrics.MeterName] }, factory);
        var metrics = new GatewayMetrics(factory, []);

        metrics.RecordSessionValidation("l2", 0.0004);
        metrics.RecordCacheLookup("session", "l1", hit: false);
        metrics.RecordRedisCall("get", 0.0003);
        metrics.RecordRequest(0.001, "standard", "users", 503);
        string text = await exporter.ScrapeAsync(TestContext.Current.CancellationToken);

        Assert.Contains("gateway_session_validation_duration_seconds_count{source=\"l2\"} 1", text);
        Assert.Contains("gateway_session_validations_total{source=\"l2\"} 1", text);
        Assert.Contains("gateway_cache_lookups_total{cache=\"session\",level=\"l1\",result=\"miss\"} 1", text);
        Assert.Contains("gateway_redis_duration_seconds_count{op=\"get\"} 1", text);
        Assert.Contains("gateway_request_duration_seconds_count{tier=\"standard\",route_class=\"users\",status_class=\"5xx\"} 1", text);
        PrometheusExporterTests.AssertValidExposition(text);
    }

    [Theory]
    [InlineData(200, "2xx")]
    [InlineData(304, "3xx")]
    [InlineData(429, "4xx")]
    [InlineData(599, "5xx")]
    [InlineData(101, "1xx")]
    [InlineData(700, "other")]
    public void StatusClass_IsPrecomputed(int status, string expected)
    {
        Assert.Equal(expected, GatewayMetrics.StatusClass(status));
        Assert.Same(GatewayMetrics.StatusClass(status), GatewayMetrics.StatusClass(status));
    }

    [Fact]
    public void OverBudgetLogLimiter_AllowsNPerWindowAndReportsSuppressed()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var limiter = new OverBudgetLogLimiter(time, perWindow: 2, TimeSpan.FromSeconds(10));

        Assert.True(limiter.TryAcquire("standard", out long s1));
        Assert.True(limiter.TryAcquire("standard", out long s2));
        Assert.False(limiter.TryAcquire("standard", out _));
        Assert.False(limiter.TryAcquire("standard", out _));
        Assert.True(limiter.TryAcquire("ultra-fast", out _));
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.True(limiter.TryAcquire("standard", out long s3));

        Assert.Equal(0, s1);
        Assert.Equal(0, s2);
        Assert.Equal(2, s3);
    }
}
