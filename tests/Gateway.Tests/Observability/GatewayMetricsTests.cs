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
}
