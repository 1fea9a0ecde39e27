using Gateway.Observability;
using Gateway.Resilience;
using Yarp.ReverseProxy.Health;

namespace Gateway.Proxy;

/// <summary>Registration of what multi-destination clusters need besides YARP itself.</summary>
internal static class ClusterHealthServiceCollectionExtensions
{
    /// <summary>
    /// Health probes that bypass the cluster breaker, the destinations view the breaker and failover read, and the
    /// <c>clusters</c> section of <c>/gateway/status</c>. Call after <c>AddReverseProxy()</c> (it replaces YARP's probe factory).
    /// </summary>
    public static IServiceCollection AddGatewayClusterHealth(this IServiceCollection services)
    {
        services.AddSingleton<IProbingRequestFactory, GatewayProbingRequestFactory>();
        services.AddSingleton<IClusterDestinations, YarpClusterDestinations>();
        services.AddSingleton<IStatusContributor, DestinationStatusContributor>();
        return services;
    }
}
