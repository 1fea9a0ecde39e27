using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Gateway.Observability.Telemetry;

/// <summary>
/// OpenTelemetry tracing for either service, without the hosting package: builds a <see cref="TracerProvider"/> only
/// when <c>Telemetry:Otlp:Endpoint</c> is set (off by default), registers it as a singleton and disposes it at
/// shutdown (flushing spans). Framework and OpenTelemetry only, so the backend can link this file.
/// Configuration: <c>Telemetry:Otlp:Endpoint</c> (e.g. http://127.0.0.1:4317), <c>Telemetry:Otlp:Protocol</c>
/// (grpc, default, or http/protobuf), <c>Telemetry:PropagateTraceContext</c> (default true).
/// </summary>
public static class TelemetrySetup
{
    /// <summary>
    /// Adds tracing for <paramref name="sources"/> (the gateway: "Gateway", "Yarp.ReverseProxy", "System.Net.Http",
    /// "Microsoft.AspNetCore"; the backend: "Backend", "Npgsql", "Microsoft.AspNetCore").
    /// <paramref name="configure"/> lets callers (and tests) add processors or exporters.
    /// Returns true when a tracer provider was built.
    /// </summary>
    public static bool AddOtlpTracing(this IServiceCollection services, IConfiguration configuration, string serviceName,
        IEnumerable<string> sources, Action<TracerProviderBuilder>? configure = null)
    {
        string? endpoint = configuration["Telemetry:Otlp:Endpoint"];
        bool propagate = configuration.GetValue("Telemetry:PropagateTraceContext", true);
        if (string.IsNullOrWhiteSpace(endpoint) && configure is null)
        {
            // No tracer listens, so no activities exist and nothing is propagated anyway; with propagation explicitly
            // off, also stop HttpClient from emitting headers should some other listener create activities.
            if (!propagate) DistributedContextPropagator.Current = DistributedContextPropagator.CreateNoOutputPropagator();
            return false;
        }

        var builder = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(ResourceBuilder.CreateDefault().AddService(serviceName))
            .AddSource([.. sources]);
        if (!string.IsNullOrWhiteSpace(endpoint))
        {
            var protocol = string.Equals(configuration["Telemetry:Otlp:Protocol"], "http/protobuf", StringComparison.OrdinalIgnoreCase)
                ? OtlpExportProtocol.HttpProtobuf
                : OtlpExportProtocol.Grpc;
            builder.AddOtlpExporter(o =>
            {
                o.Endpoint = new Uri(endpoint);
                o.Protocol = protocol;
            });
        }
        configure?.Invoke(builder);
        var provider = builder.Build();
        services.AddSingleton(provider);
        services.AddHostedService(sp => new TracerProviderLifetime(sp.GetRequiredService<TracerProvider>()));
        return true;
    }

    /// <summary>Flushes and disposes the provider when the host stops (the provider was built before the container).</summary>
    private sealed class TracerProviderLifetime(TracerProvider provider) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken)
        {
            provider.Dispose();
            return Task.CompletedTask;
        }
    }
}
