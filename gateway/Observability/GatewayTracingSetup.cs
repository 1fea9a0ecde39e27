using Gateway.Observability.Telemetry;
using Gateway.Proxy;

namespace Gateway.Observability;

internal static class GatewayTracingSetup
{
    /// <summary>
    /// OTLP tracing of the gateway's spans, YARP, HttpClient and ASP.NET Core when <c>Telemetry:Otlp:Endpoint</c> is set.
    /// Trace headers to the backend cost a little per request: on only when traces are exported.
    /// </summary>
    public static IServiceCollection AddGatewayTracing(this IServiceCollection services, IConfiguration config)
    {
        if (services.AddOtlpTracing(config, "gateway", [GatewayTracing.SourceName, "Yarp.ReverseProxy", "System.Net.Http", "Microsoft.AspNetCore"]))
            services.PostConfigure<ForwardingOptions>(o => o.PropagateActivityHeaders = true);
        return services;
    }
}
