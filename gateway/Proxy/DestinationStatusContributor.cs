using System.Text.Json;
using Gateway.Observability;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace Gateway.Proxy;

/// <summary>
/// <c>/gateway/status</c> section <c>clusters</c>: every cluster's destinations with their active and passive health
/// as YARP records it, and whether the load balancer may pick them, and the protocol the cluster is reached over.
/// Healthy while every cluster has one available.
/// </summary>
internal sealed class DestinationStatusContributor(IProxyStateLookup proxy) : IStatusContributor
{
    public string Name => "clusters";

    public void WriteStatus(Utf8JsonWriter writer)
    {
        bool allServed = true;
        writer.WriteStartObject();
        writer.WriteStartObject("clusters");
        foreach (var cluster in proxy.GetClusters())
        {
            var available = cluster.DestinationsState.AvailableDestinations;
            allServed &= available.Count > 0;
            writer.WriteStartObject(cluster.ClusterId);
            writer.WriteString("loadBalancing", cluster.Model.Config.LoadBalancingPolicy ?? "PowerOfTwoChoices");
            // h2c: HTTP/2 exactly, by the file's "protocol" or Backend:H2cUrl; auto: HTTP/1.1, or HTTP/2 by ALPN over TLS.
            writer.WriteString("protocol", cluster.Model.Config.HttpRequest is { Version.Major: 2, VersionPolicy: System.Net.Http.HttpVersionPolicy.RequestVersionExact } ? "h2c" : "auto");
            writer.WriteNumber("available", available.Count);
            writer.WriteStartObject("destinations");
            foreach (var d in cluster.DestinationsState.AllDestinations)
            {
                writer.WriteStartObject(d.DestinationId);
                writer.WriteString("address", d.Model.Config.Address);
                writer.WriteString("active", HealthName(d.Health.Active));
                writer.WriteString("passive", HealthName(d.Health.Passive));
                writer.WriteBoolean("available", Contains(available, d));
                writer.WriteNumber("concurrentRequests", d.ConcurrentRequestCount);
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
        writer.WriteBoolean("healthy", allServed);
        writer.WriteEndObject();
    }

    private static string HealthName(DestinationHealth health) => health switch
    {
        DestinationHealth.Healthy => "healthy",
        DestinationHealth.Unhealthy => "unhealthy",
        _ => "unknown",
    };

    private static bool Contains(IReadOnlyList<DestinationState> list, DestinationState d)
    {
        foreach (var x in list) if (ReferenceEquals(x, d)) return true;
        return false;
    }
}
