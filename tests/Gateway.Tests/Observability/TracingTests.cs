using System.Collections.Concurrent;
using System.Diagnostics;
using Gateway.Observability;
using Gateway.Observability.Telemetry;
using Microsoft.Extensions.Configuration;
using OpenTelemetry;
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
            Assert.True(s.AddOtlpTracing(configuration, "gateway-test", [GatewayTracing.SourceName, "System.Net.Http", "Microsoft.AspNetCore"],
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
    public void Tracing_IsOffWithoutAnOtlpEndpoint()
    {
        var services = new Microsoft.Extensions.DependencyInjection.ServiceCollection();
        Assert.False(services.AddOtlpTracing(new ConfigurationBuilder().Build(), "gateway-test", [GatewayTracing.SourceName]));
        Assert.Empty(services);
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
