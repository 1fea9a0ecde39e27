using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Transforms;

namespace Gateway.Routing;

/// <summary>Turns a route-class snapshot into YARP routes and clusters.</summary>
internal static class ProxyConfigBuilder
{
    /// <summary>Route metadata key naming the route class.</summary>
    public const string RouteClassKey = "RouteClass";
    /// <summary>Route metadata key of the <see cref="RouteClassSnapshot.Generation"/> the route was built from.</summary>
    public const string SnapshotKey = "Snapshot";
    /// <summary>Route metadata key of the route's <c>sessionCookie</c> (<c>issue</c>/<c>clear</c>), read by the cookie transforms.</summary>
    public const string SessionCookieKey = "SessionCookie";
    /// <summary>Route metadata key present (value <c>true</c>) on routes marked <c>evictsSessions</c>.</summary>
    public const string EvictsSessionsKey = "EvictsSessions";
    /// <summary>Route metadata key present (value <c>true</c>) on routes marked <c>evictsCache</c> or <c>evictsSessions</c>.</summary>
    public const string EvictsCacheKey = "EvictsCache";
    /// <summary>Route metadata key of the route's <c>pathRemovePrefix</c>, read by classification: the <c>/internal</c> refusal is about the path the backend gets.</summary>
    public const string PathRemovePrefixKey = "PathRemovePrefix";

    public static IReadOnlyList<RouteConfig> Routes(RouteClassSnapshot snapshot)
    {
        var routes = new List<RouteConfig>(snapshot.Routes.Count);
        foreach (var (name, route) in snapshot.Routes)
        {
            var cls = snapshot.Classes[route.Class];
            var config = new RouteConfig
            {
                RouteId = name,
                ClusterId = route.Cluster,
                Match = new RouteMatch
                {
                    Path = route.Path,
                    Methods = route.Methods.Count == 0 ? null : route.Methods,
                    Hosts = route.Hosts,
                    Headers = Headers(route.Headers),
                },
                Metadata = Metadata(route, snapshot),
                Timeout = TimeSpan.FromMilliseconds(cls.TimeoutMs),
                // YARP's "default" marks the endpoint as CORS-enabled, which is what makes a preflight (OPTIONS asking
                // for POST) match a POST-only route, so it is classified and answered by the class's policy
                // (Gateway.Browsers.CorsMiddleware), not sent to the default class. No route without a policy gets it.
                CorsPolicy = cls.Cors is null ? null : "default",
            };
            // Route transforms run before the identity transform (providers apply after a route's own transforms), so the
            // signature covers the path the backend receives and no operator transform can touch a signed header.
            if (route.PathRemovePrefix is { } prefix) config = config.WithTransformPathRemovePrefix(prefix);
            if (route.RequestHeaders is { } request)
            {
                foreach (var (header, value) in request.Set) config = config.WithTransformRequestHeader(header, value, append: false);
                foreach (var (header, value) in request.Append) config = config.WithTransformRequestHeader(header, value, append: true);
                foreach (var header in request.Remove) config = config.WithTransformRequestHeaderRemove(header);
            }
            if (route.ResponseHeaders is { } response)
            {
                // Always, not YARP's default Success: an operator removing a header means on error answers too.
                foreach (var (header, value) in response.Set) config = config.WithTransformResponseHeader(header, value, append: false, ResponseCondition.Always);
                foreach (var (header, value) in response.Append) config = config.WithTransformResponseHeader(header, value, append: true, ResponseCondition.Always);
                foreach (var header in response.Remove) config = config.WithTransformResponseHeaderRemove(header, ResponseCondition.Always);
            }
            routes.Add(config);
        }
        return routes;
    }

    private static Dictionary<string, string> Metadata(RouteDefinition route, RouteClassSnapshot snapshot)
    {
        var metadata = new Dictionary<string, string> { [RouteClassKey] = route.Class, [SnapshotKey] = snapshot.Generation };
        if (route.SessionCookie is { } cookie) metadata[SessionCookieKey] = cookie;
        if (route.EvictsSessions) metadata[EvictsSessionsKey] = "true";
        // A session or membership change changes the principal, and so every cached answer that shows it.
        if (route.EvictsCache || route.EvictsSessions) metadata[EvictsCacheKey] = "true";
        if (route.PathRemovePrefix is { } prefix) metadata[PathRemovePrefixKey] = prefix;
        return metadata;
    }

    private static IReadOnlyList<RouteHeader>? Headers(IReadOnlyList<RouteHeaderMatch>? headers)
    {
        if (headers is null) return null;
        var result = new List<RouteHeader>(headers.Count);
        foreach (var h in headers)
            result.Add(new RouteHeader
            {
                Name = h.Name,
                Values = h.Values.Count == 0 ? null : h.Values,
                Mode = Enum.Parse<HeaderMatchMode>(h.Mode),
                IsCaseSensitive = h.IsCaseSensitive,
            });
        return result;
    }

    /// <param name="backendBaseUrl"><c>Backend:BaseUrl</c>: where a destination without an address goes.</param>
    /// <param name="backendH2cUrl"><c>Backend:H2cUrl</c>, or null. When set, a cluster whose destinations all name no address
    /// and whose protocol is <c>auto</c> goes there over HTTP/2 with prior knowledge: the same backend, reached over a
    /// protocol whose concurrent requests share connections and system calls (docs/performance.md, "Thirteenth pass").
    /// A cluster that states <c>h2c</c> or names its own addresses is left as the file says.</param>
    public static IReadOnlyList<ClusterConfig> Clusters(RouteClassSnapshot snapshot, string backendBaseUrl, string? backendH2cUrl = null)
    {
        var clusters = new List<ClusterConfig>(snapshot.Clusters.Count);
        foreach (var (name, cluster) in snapshot.Clusters)
        {
            bool overH2c = backendH2cUrl is not null && UsesBackendH2c(cluster);
            var destinations = new Dictionary<string, DestinationConfig>(cluster.Destinations.Count, StringComparer.Ordinal);
            foreach (var (id, address) in cluster.Destinations)
                destinations[id] = new DestinationConfig { Address = address.Length > 0 ? address : overH2c ? backendH2cUrl! : backendBaseUrl };
            clusters.Add(new ClusterConfig
            {
                ClusterId = name,
                Destinations = destinations,
                LoadBalancingPolicy = cluster.LoadBalancing,
                HealthCheck = HealthCheck(cluster),
                HttpRequest = HttpRequest(overH2c ? cluster with { Protocol = ClusterDefinition.ProtocolH2c } : cluster),
                // One connection per destination: every proxied request's frames share its reads and writes, and the
                // backend's stream limit (100 on its h2c listener) caps the requests in flight, as MaxConnectionsPerServer
                // did over HTTP/1.1. Measured at 1,024 client connections: up to 15,000 req/s at 81 µs and 170-180 MB, where
                // a new connection per 100 streams gave 7,500-10,300 req/s at 124-168 µs and 219-237 MB (docs/performance.md).
                HttpClient = overH2c ? new HttpClientConfig { EnableMultipleHttp2Connections = false } : null,
                // One failed probe is enough: the file promises a failing destination stops receiving traffic within one
                // interval (YARP's default of two consecutive failures would take two).
                Metadata = cluster.ActiveHealthCheck is null ? null
                    : new Dictionary<string, string> { [ConsecutiveFailuresHealthPolicyOptions.ThresholdMetadataName] = "1" },
            });
        }
        return clusters;
    }

    /// <summary>True when the cluster is the default backend (the <c>""</c> shorthand) and leaves the protocol to the gateway.</summary>
    private static bool UsesBackendH2c(ClusterDefinition cluster) =>
        cluster.Protocol == ClusterDefinition.ProtocolAuto && cluster.Destinations.Count > 0 && cluster.Destinations.Values.All(a => a.Length == 0);

    /// <summary>
    /// The cluster's protocol and idle timeout. h2c: HTTP/2 exactly (RequestVersionExact), because the default policy
    /// (2.0 or lower) falls back to HTTP/1.1 without TLS, and a gRPC service cannot answer over HTTP/1.1.
    /// </summary>
    private static ForwarderRequestConfig? HttpRequest(ClusterDefinition cluster)
    {
        bool h2c = cluster.Protocol == ClusterDefinition.ProtocolH2c;
        if (!h2c && cluster.IdleTimeoutSeconds is null) return null;
        return new ForwarderRequestConfig
        {
            Version = h2c ? System.Net.HttpVersion.Version20 : null,
            VersionPolicy = h2c ? System.Net.Http.HttpVersionPolicy.RequestVersionExact : null,
            ActivityTimeout = cluster.IdleTimeoutSeconds is { } idle ? TimeSpan.FromSeconds(idle) : null,
        };
    }

    private static HealthCheckConfig? HealthCheck(ClusterDefinition cluster)
    {
        if (!cluster.HasHealthChecks) return null;
        return new HealthCheckConfig
        {
            // HealthyAndUnknown, not HealthyOrPanic: with every destination down the client gets a clear 503 naming the
            // cluster (ProxyPipeline) instead of the gateway sending traffic to destinations known to be failing.
            AvailableDestinationsPolicy = HealthCheckConstants.AvailableDestinations.HealthyAndUnknown,
            Active = cluster.ActiveHealthCheck is { } a
                ? new ActiveHealthCheckConfig
                {
                    Enabled = true,
                    Path = a.Path,
                    Interval = TimeSpan.FromSeconds(a.IntervalSeconds),
                    Timeout = TimeSpan.FromSeconds(a.TimeoutSeconds),
                    Policy = HealthCheckConstants.ActivePolicy.ConsecutiveFailures,
                }
                : null,
            Passive = cluster.PassiveHealthCheck
                ? new PassiveHealthCheckConfig { Enabled = true, Policy = HealthCheckConstants.PassivePolicy.TransportFailureRate }
                : null,
        };
    }
}
