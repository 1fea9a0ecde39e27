using System.Collections.Concurrent;
using System.Diagnostics;
using Gateway.Observability;
using Gateway.Observability.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using TestInfrastructure;

namespace Gateway.Tests.Observability;

public sealed class TracingTests
{
    [Fact]
    public async Task StagesAreSpans_AndTraceparentReachesTheBackendInTheSameTrace()
    {
        var exported = new ConcurrentQueue<Activity>();
        await using var backend = await RecordingBackend.StartAsync();
        var configuration = new ConfigurationBuilder().Build();
        await using var host = await ObservabilityTestHost.StartAsync(services: s =>
            Assert.True(s.AddGatewayTelemetry(configuration,
                builder => builder.AddProcessor(new SimpleActivityExportProcessor(new CollectingExporter(exported))))));

        using var response = await host.GetAsync("/t?forward=" + Uri.EscapeDataString(backend.BaseUrl + "/users"));

        var recorded = Assert.Single(backend.Requests);
        Assert.True(recorded.Headers.TryGetValue("traceparent", out var traceparent), "no traceparent forwarded");
        string traceId = traceparent!.Split('-')[1];
        // Spans end asynchronously relative to the response; poll with a deadline.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!HasSpan(exported, "gateway.proxy", traceId) || !HasSpan(exported, "gateway.classify", traceId))
        {
            Assert.True(DateTime.UtcNow < deadline, "stage spans missing; exported: " + string.Join(", ", exported.Select(a => a.DisplayName)));
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
        // The request id of a traced request is its trace id, so logs and traces join.
        Assert.Equal(traceId, Assert.Single(response.Headers.GetValues("X-Request-Id")));
    }

    [Fact]
    public void Telemetry_WithoutAnOtlpEndpoint_RegistersNothing()
    {
        // Nothing registered means no ActivityListener, so ASP.NET Core creates no Activity per request.
        var services = new ServiceCollection();
        Assert.False(services.AddGatewayTelemetry(new ConfigurationBuilder().Build()));
        Assert.Empty(services);
    }

    [Fact]
    public void Telemetry_WithAnOtlpEndpoint_BuildsTracerAndMeterProviders()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Telemetry:Otlp:Endpoint"] = "http://127.0.0.1:4318",
            ["Telemetry:Otlp:Protocol"] = "http/protobuf",
        }).Build();
        var services = new ServiceCollection();
        Assert.True(services.AddGatewayTelemetry(configuration));
        using var provider = services.BuildServiceProvider();
        Assert.NotNull(provider.GetService<TracerProvider>());
        Assert.NotNull(provider.GetService<MeterProvider>());
    }

    [Theory]
    [InlineData("http://collector:4318", "http://collector:4318/v1/traces", "http://collector:4318/v1/metrics")]
    [InlineData("http://collector:4318/", "http://collector:4318/v1/traces", "http://collector:4318/v1/metrics")]
    [InlineData("http://collector:4318/v1/traces", "http://collector:4318/v1/traces", "http://collector:4318/v1/metrics")]
    public void HttpProtobuf_AppendsEachSignalsPath(string configured, string traces, string metrics)
    {
        var t = new OtlpExporterOptions();
        var m = new OtlpExporterOptions();
        TelemetrySetup.Point(t, configured, OtlpExportProtocol.HttpProtobuf, "v1/traces");
        TelemetrySetup.Point(m, configured, OtlpExportProtocol.HttpProtobuf, "v1/metrics");
        Assert.Equal(new Uri(traces), t.Endpoint);
        Assert.Equal(new Uri(metrics), m.Endpoint);
    }

    [Fact]
    public void Grpc_UsesTheCollectorAddressAsGiven()
    {
        var o = new OtlpExporterOptions();
        TelemetrySetup.Point(o, "http://collector:4317", OtlpExportProtocol.Grpc, "v1/traces");
        Assert.Equal(new Uri("http://collector:4317"), o.Endpoint);
        Assert.Equal(OtlpExportProtocol.Grpc, o.Protocol);
    }

    private static bool HasSpan(IEnumerable<Activity> spans, string name, string traceId) =>
        spans.Any(a => a.DisplayName == name && a.TraceId.ToHexString() == traceId);

    private sealed class CollectingExporter(ConcurrentQueue<Activity> sink) : BaseExporter<Activity>
    {
        public override ExportResult Export(in Batch<Activity> batch)
        {
            foreach (var activity in batch) sink.Enqueue(activity);
            return ExportResult.Success;
        }
    }
}
