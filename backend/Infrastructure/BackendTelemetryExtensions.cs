using Backend.Observability;
using Gateway.Observability.Telemetry;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Backend.Infrastructure;

/// <summary>The backend's OpenTelemetry: its sources and instruments, through <see cref="TelemetrySetup"/>.</summary>
internal static class BackendTelemetryExtensions
{
    /// <summary>
    /// Traces ASP.NET Core (continuing the gateway's trace from <c>traceparent</c>), HttpClient and Npgsql's commands, and
    /// exports the backend's and Npgsql's meters over OTLP, only when <c>Telemetry:Otlp:Endpoint</c> is set.
    /// </summary>
    public static IServiceCollection AddBackendTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddServiceTelemetry(configuration, "backend",
            tracing => tracing
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddNpgsql(),
            metrics => metrics
                .AddMeter(BackendMetrics.MeterName)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddNpgsqlInstrumentation());
        return services;
    }
}
