using Microsoft.AspNetCore.DataProtection;
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
        services.AddSingleton<StreamedBodyShare>();
        services.AddReverseProxy().AddTransforms<ForwardedHeadersTransformProvider>().AddTransforms<IdentityTransformProvider>()
            .AddTransforms<DisclosureHeadersTransformProvider>().AddTransforms<RefusedWebSocketTransformProvider>()
            .AddTransforms<Streams.StreamAnsweredTransformProvider>().AddTransforms<Sessions.SessionEvictionTransformProvider>()
            .AddTransforms<Caching.WriteEvictionTransformProvider>();
        services.AddGatewayClusterHealth();
        services.AddSingleton<IForwarderHttpClientFactory, GatewayForwarderHttpClientFactory>();
        services.RemoveDataProtectionStartup();
        return services;
    }

    /// <summary>
    /// YARP registers ASP.NET Core data protection for its session-affinity cookies. By default that means a key ring on
    /// disk: at start, data protection's hosted service loads or creates an XML key file under the user's home
    /// (<c>~/.aspnet/DataProtection-Keys</c>), which loads the XML stack (~5 MB of RSS).
    /// The route file configures no session affinity, so nothing in the gateway ever protects data. Data protection
    /// gets in-memory keys instead (YARP's affinity policies still resolve), and its start-up step is removed.
    /// </summary>
    private static void RemoveDataProtectionStartup(this IServiceCollection services)
    {
        services.AddDataProtection().UseEphemeralDataProtectionProvider();
        for (int i = services.Count - 1; i >= 0; i--)
        {
            var d = services[i];
            if (d.ServiceType == typeof(IHostedService)
                && d.ImplementationType?.FullName == "Microsoft.AspNetCore.DataProtection.Internal.DataProtectionHostedService")
                services.RemoveAt(i);
        }
    }
}
