using System.Diagnostics.Metrics;
using System.Text.RegularExpressions;
using Gateway.Observability.Prometheus;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Observability;

public sealed partial class PrometheusExporterTests : IDisposable
{
    private readonly ServiceProvider _services;
    private readonly IMeterFactory _factory;
    private readonly PrometheusExporter _exporter;
    private readonly Meter _meter;

    public PrometheusExporterTests()
    {
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        _factory = _services.GetRequiredService<IMeterFactory>();
        _exporter = new PrometheusExporter(new PrometheusExporterOptions { Meters = ["Gateway"] }, _factory);
        _meter = _factory.Create("Gateway");
    }

    public void Dispose()
    {
        _exporter.Dispose();
        _services.Dispose();
    }

    [Fact]
    public async Task Counter_IsRenderedWithTotalSuffixHelpAndType()
    {
        var counter = _meter.CreateCounter<long>("gateway.cache.lookups", "{lookup}", "Cache lookups.");
        counter.Add(2, new KeyValuePair<string, object?>("cache", "response"), new KeyValuePair<string, object?>("result", "hit"));
        counter.Add(3, new KeyValuePair<string, object?>("result", "hit"), new KeyValuePair<string, object?>("cache", "response"));

        string text = await _exporter.ScrapeAsync(TestContext.Current.CancellationToken);

        Assert.Contains("# HELP gateway_cache_lookups_total Cache lookups.\n", text);
        Assert.Contains("# TYPE gateway_cache_lookups_total counter\n", text);
        // Same tags in another order are the same series.
        Assert.Contains("gateway_cache_lookups_total{cache=\"response\",result=\"hit\"} 5\n", text);
        AssertValidExposition(text);
    }

    [Fact]
    public async Task Histogram_BucketsAreCumulativeWithSumAndCount()
    {
        var histogram = _meter.CreateHistogram<double>("gateway.request.duration", "s", "Request duration.");
        var tags = new KeyValuePair<string, object?>("tier", "standard");
        histogram.Record(0.0002, tags);
        histogram.Record(0.003, tags);
        histogram.Record(0.003, tags);
        histogram.Record(42, tags);

        string text = await _exporter.ScrapeAsync(TestContext.Current.CancellationToken);

        Assert.Contains("# TYPE gateway_request_duration_seconds histogram\n", text);
        Assert.Contains("gateway_request_duration_seconds_bucket{tier=\"standard\",le=\"0.0001\"} 0\n", text);
        Assert.Contains("gateway_request_duration_seconds_bucket{tier=\"standard\",le=\"0.00025\"} 1\n", text);
        Assert.Contains("gateway_request_duration_seconds_bucket{tier=\"standard\",le=\"0.0025\"} 1\n", text);
        Assert.Contains("gateway_request_duration_seconds_bucket{tier=\"standard\",le=\"0.005\"} 3\n", text);
        Assert.Contains("gateway_request_duration_seconds_bucket{tier=\"standard\",le=\"10\"} 3\n", text);
        Assert.Contains("gateway_request_duration_seconds_bucket{tier=\"standard\",le=\"+Inf\"} 4\n", text);
        Assert.Contains("gateway_request_duration_seconds_count{tier=\"standard\"} 4\n", text);
        Assert.Contains("gateway_request_duration_seconds_sum{tier=\"standard\"} 42.00", text);
        AssertValidExposition(text);
    }

    [Fact]
    public async Task LabelValues_AreEscaped()
    {
        var counter = _meter.CreateCounter<long>("gateway.ratelimit.rejections", "{request}", "Help with \\ and\nnewline.");
        counter.Add(1, new KeyValuePair<string, object?>("policy", "a\"b\\c\nd"));

        string text = await _exporter.ScrapeAsync(TestContext.Current.CancellationToken);

        Assert.Contains("gateway_ratelimit_rejections_total{policy=\"a\\\"b\\\\c\\nd\"} 1\n", text);
        Assert.Contains("# HELP gateway_ratelimit_rejections_total Help with \\\\ and\\nnewline.\n", text);
        AssertValidExposition(text);
    }

    [Fact]
    public async Task ObservableAndUpDownInstruments_AreGauges()
    {
        int state = 2;
        _meter.CreateObservableGauge("gateway.breaker.state", () => new Measurement<int>(state, new KeyValuePair<string, object?>("name", "redis")), "{state}");
        var inflight = _meter.CreateUpDownCounter<long>("gateway.requests.active", "{request}");
        inflight.Add(3);
        inflight.Add(-1);

        string first = await _exporter.ScrapeAsync(TestContext.Current.CancellationToken);
        state = 0;
        string second = await _exporter.ScrapeAsync(TestContext.Current.CancellationToken);

        Assert.Contains("# TYPE gateway_breaker_state gauge\n", first);
        Assert.Contains("gateway_breaker_state{name=\"redis\"} 2\n", first);
        Assert.Contains("gateway_breaker_state{name=\"redis\"} 0\n", second);
        Assert.Contains("gateway_requests_active 2\n", first);
        AssertValidExposition(first);
    }

    [Fact]
    public async Task OtherMetersAndOtherHostsMeters_AreNotExported()
    {
        using var otherServices = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var otherHostMeter = otherServices.GetRequiredService<IMeterFactory>().Create("Gateway");
        otherHostMeter.CreateCounter<long>("other.host.counter").Add(1);
        using var unlisted = new Meter("Unlisted");
        unlisted.CreateCounter<long>("unlisted.counter").Add(1);
        _meter.CreateCounter<long>("mine.counter").Add(1);

        string text = await _exporter.ScrapeAsync(TestContext.Current.CancellationToken);

        Assert.Contains("mine_counter_total 1", text);
        Assert.DoesNotContain("other_host", text);
        Assert.DoesNotContain("unlisted", text);
    }

    [Theory]
    [InlineData("http.server.request.duration", "s", false, "http_server_request_duration_seconds")]
    [InlineData("kestrel.active_connections", "{connection}", false, "kestrel_active_connections")]
    [InlineData("gateway.session.validations", "{validation}", true, "gateway_session_validations_total")]
    [InlineData("db.client.operation.duration", "ms", false, "db_client_operation_duration_milliseconds")]
    [InlineData("process.memory", "By", false, "process_memory_bytes")]
    [InlineData("requests_total", "1", true, "requests_total")]
    public void MetricName_FollowsOtelToPrometheusRules(string name, string unit, bool counter, string expected) =>
        Assert.Equal(expected, PrometheusNaming.MetricName(name, unit, counter));

    /// <summary>Every line is a comment (HELP/TYPE) or a sample matching the text-format grammar.</summary>
    internal static void AssertValidExposition(string text)
    {
        Assert.EndsWith("\n", text);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            Assert.True(HelpLine().IsMatch(line) || TypeLine().IsMatch(line) || SampleLine().IsMatch(line), $"Invalid exposition line: {line}");
        }
    }

    [GeneratedRegex(@"^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* ([^\\\n]|\\\\|\\n)*$")]
    private static partial Regex HelpLine();

    [GeneratedRegex(@"^# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped)$")]
    private static partial Regex TypeLine();

    [GeneratedRegex(@"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*=""([^""\\\n]|\\\\|\\""|\\n)*"")(,[a-zA-Z_][a-zA-Z0-9_]*=""([^""\\\n]|\\\\|\\""|\\n)*"")*\})? (-?[0-9.eE+-]+|\+Inf|-Inf|NaN)$")]
    private static partial Regex SampleLine();
}
