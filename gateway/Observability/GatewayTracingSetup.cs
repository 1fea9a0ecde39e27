using Gateway.Proxy;

namespace Gateway.Observability;

internal static class GatewayTracingSetup
{
    /// <summary>
    /// OpenTelemetry (<see cref="GatewayTelemetryExtensions.AddGatewayTelemetry"/>) when <c>Telemetry:Otlp:Endpoint</c> is
    /// set. Trace headers to the backend cost a little per request: on only when traces are exported.
    /// </summary>
    public static IServiceCollection AddGatewayTracing(this IServiceCollection services, IConfiguration config)
    {
        if (services.AddGatewayTelemetry(config))
            services.PostConfigure<ForwardingOptions>(o => o.PropagateActivityHeaders = true);
        return services;
    }
}
