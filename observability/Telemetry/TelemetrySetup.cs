using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Gateway.Observability.Telemetry;

/// <summary>
/// OpenTelemetry for either service through the hosting package (<c>AddOpenTelemetry().WithTracing().WithMetrics()</c>),
/// on only when something exports: with no <c>Telemetry:Otlp:Endpoint</c> (the default) nothing is registered, so no
/// <see cref="ActivityListener"/> exists and ASP.NET Core creates no Activity per request. The hosting package builds the
/// providers at start and flushes and disposes them at shutdown.
/// Configuration: <c>Telemetry:Otlp:Endpoint</c> (the collector's base address, e.g. http://127.0.0.1:4317),
/// <c>Telemetry:Otlp:Protocol</c> (grpc, default, or http/protobuf), <c>Telemetry:PropagateTraceContext</c> (default true).
/// </summary>
public static class TelemetrySetup
{
    /// <summary>
    /// Adds OpenTelemetry tracing (and, when <paramref name="metrics"/> is given, OTLP metrics) exported to
    /// <c>Telemetry:Otlp:Endpoint</c>. <paramref name="tracing"/> names the service's sources and instrumentations;
    /// <paramref name="configure"/> lets tests add processors, and turns tracing on without an endpoint.
    /// Returns true when tracing is on (the caller then turns on whatever propagation costs per request).
    /// </summary>
    public static bool AddServiceTelemetry(this IServiceCollection services, IConfiguration configuration, string serviceName,
        Action<TracerProviderBuilder> tracing, Action<MeterProviderBuilder>? metrics = null, Action<TracerProviderBuilder>? configure = null)
    {
        string? endpoint = configuration["Telemetry:Otlp:Endpoint"];
        bool export = !string.IsNullOrWhiteSpace(endpoint);
        if (!export && configure is null)
        {
            // Nothing listens, so no activities exist and nothing is propagated anyway; with propagation explicitly
            // off, also stop HttpClient from emitting headers should some other listener create activities.
            if (!configuration.GetValue("Telemetry:PropagateTraceContext", true))
                DistributedContextPropagator.Current = DistributedContextPropagator.CreateNoOutputPropagator();
            return false;
        }

        var protocol = string.Equals(configuration["Telemetry:Otlp:Protocol"], "http/protobuf", StringComparison.OrdinalIgnoreCase)
            ? OtlpExportProtocol.HttpProtobuf
            : OtlpExportProtocol.Grpc;
        var otel = services.AddOpenTelemetry().ConfigureResource(r => r.AddService(serviceName));
        otel.WithTracing(t =>
        {
            tracing(t);
            if (export) t.AddOtlpExporter(o => Point(o, endpoint!, protocol, "v1/traces"));
            configure?.Invoke(t);
        });
        // Metrics go over OTLP only when a collector is configured; /metrics (Prometheus) does not need a MeterProvider.
        if (export && metrics is not null)
        {
            otel.WithMetrics(m =>
            {
                metrics(m);
                m.AddOtlpExporter(o => Point(o, endpoint!, protocol, "v1/metrics"));
            });
        }
        return true;
    }

    /// <summary>
    /// gRPC takes the collector address as is; over http/protobuf each signal has its own path, appended here to the
    /// base address as <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> does (an endpoint already naming <c>/v1/traces</c> is accepted).
    /// </summary>
    internal static void Point(OtlpExporterOptions options, string endpoint, OtlpExportProtocol protocol, string signalPath)
    {
        options.Protocol = protocol;
        if (protocol == OtlpExportProtocol.Grpc)
        {
            options.Endpoint = new Uri(endpoint);
            return;
        }
        string baseUrl = endpoint.TrimEnd('/');
        if (baseUrl.EndsWith("/v1/traces", StringComparison.Ordinal)) baseUrl = baseUrl[..^"/v1/traces".Length];
        options.Endpoint = new Uri(baseUrl + "/" + signalPath);
    }
}
