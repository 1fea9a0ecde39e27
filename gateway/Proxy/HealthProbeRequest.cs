using System.Net;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Gateway.Proxy;

/// <summary>
/// An active health probe. YARP sends probes through the cluster's own client, so they pass the resilience handler:
/// its type lets the handler send them straight through, so a probe never feeds the cluster's breaker (a destination
/// failing its probes is health's business) nor spends the retry budget.
/// </summary>
internal sealed class HealthProbeRequest(Uri uri) : HttpRequestMessage(HttpMethod.Get, uri);

/// <summary>YARP's default probe (GET the destination's health address or address plus the active path), as a <see cref="HealthProbeRequest"/>.</summary>
internal sealed class GatewayProbingRequestFactory : IProbingRequestFactory
{
    public HttpRequestMessage CreateRequest(ClusterModel cluster, DestinationModel destination)
    {
        string address = !string.IsNullOrEmpty(destination.Config.Health) ? destination.Config.Health : destination.Config.Address;
        var active = cluster.Config.HealthCheck?.Active;
        var request = new HealthProbeRequest(new Uri(address.TrimEnd('/') + (active?.Path ?? "") + (active?.Query ?? ""), UriKind.Absolute))
        {
            Version = cluster.Config.HttpRequest?.Version ?? HttpVersion.Version20,
            VersionPolicy = cluster.Config.HttpRequest?.VersionPolicy ?? HttpVersionPolicy.RequestVersionOrLower,
        };
        if (!string.IsNullOrEmpty(destination.Config.Host)) request.Headers.Host = destination.Config.Host;
        request.Headers.TryAddWithoutValidation("User-Agent", "gateway-health-probe");
        return request;
    }
}
