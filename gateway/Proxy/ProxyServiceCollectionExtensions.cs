using Gateway.Identity;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Proxy;

internal static class ProxyServiceCollectionExtensions
{
    /// <summary>
    /// YARP with the gateway's transforms (forwarded headers, signed identity), its backend connection pool behind the
    /// resilience handler (per-class timeouts: RequestDeadline). Section <c>Forwarding</c>.
    /// </summary>
    public static IServiceCollection AddGatewayProxy(this IServiceCollection services, IConfiguration config)
    {
        services.AddOptions<ForwardingOptions>().Bind(config.GetSection(ForwardingOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddReverseProxy().AddTransforms<ForwardedHeadersTransformProvider>().AddTransforms<IdentityTransformProvider>();
        services.AddGatewayClusterHealth();
        services.AddSingleton<IForwarderHttpClientFactory, GatewayForwarderHttpClientFactory>();
        return services;
    }
}
