using Yarp.ReverseProxy.Configuration;

namespace Gateway.Routing;

/// <summary>Turns a route-class snapshot into YARP routes and clusters.</summary>
internal static class ProxyConfigBuilder
{
    /// <summary>Route metadata key naming the route class.</summary>
    public const string RouteClassKey = "RouteClass";

    public static IReadOnlyList<RouteConfig> Routes(RouteClassSnapshot snapshot)
    {
        var routes = new List<RouteConfig>(snapshot.Routes.Count);
        foreach (var (name, route) in snapshot.Routes)
        {
            var cls = snapshot.Classes[route.Class];
            routes.Add(new RouteConfig
            {
                RouteId = name,
                ClusterId = route.Cluster,
                Match = new RouteMatch { Path = route.Path, Methods = route.Methods.Count == 0 ? null : route.Methods },
                Metadata = new Dictionary<string, string> { [RouteClassKey] = route.Class },
                Timeout = TimeSpan.FromMilliseconds(cls.TimeoutMs),
                // Runs before the identity transform, so the signature covers the path the backend receives.
                Transforms = route.PathRemovePrefix is { } prefix ? [new Dictionary<string, string> { ["PathRemovePrefix"] = prefix }] : null,
            });
        }
        return routes;
    }

    public static IReadOnlyList<ClusterConfig> Clusters(RouteClassSnapshot snapshot, string backendBaseUrl)
    {
        var clusters = new List<ClusterConfig>(snapshot.Clusters.Count);
        foreach (var (name, cluster) in snapshot.Clusters)
        {
            string address = cluster.Address.Length > 0 ? cluster.Address : backendBaseUrl;
            clusters.Add(new ClusterConfig
            {
                ClusterId = name,
                Destinations = new Dictionary<string, DestinationConfig> { ["primary"] = new() { Address = address } },
            });
        }
        return clusters;
    }
}
