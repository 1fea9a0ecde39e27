using Gateway.Observability.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Gateway.Observability;

/// <summary>The gateway's OpenTelemetry: its sources and instruments, through <see cref="TelemetrySetup"/>.</summary>
internal static class GatewayTelemetryExtensions
{
    /// <summary>
    /// Traces the gateway's stages, YARP, ASP.NET Core (the server span per request) and HttpClient (the calls to the
    /// backend), and exports the gateway's meters over OTLP, only when <c>Telemetry:Otlp:Endpoint</c> is set:
    /// the server span is an Activity per request, which the default (and the benchmark) must not pay for.
    /// Returns true when tracing is on.
    /// </summary>
    public static bool AddGatewayTelemetry(this IServiceCollection services, IConfiguration configuration,
        Action<TracerProviderBuilder>? configure = null) =>
        services.AddServiceTelemetry(configuration, "gateway",
            tracing => tracing
                .AddSource(GatewayTracing.SourceName, "Yarp.ReverseProxy")
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation(),
            metrics => metrics
                .AddMeter(GatewayMetrics.MeterName)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation(),
            configure);
}
