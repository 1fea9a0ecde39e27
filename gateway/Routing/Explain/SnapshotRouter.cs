using System.Diagnostics;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Routing.Explain;

/// <summary>
/// The routing of a route-class snapshot that is not (or no longer) live: YARP loads the snapshot's routes exactly as the
/// gateway builds them (<see cref="ProxyConfigBuilder.Routes"/>) into a private service provider, and
/// <see cref="EndpointMatcher"/> matches against it. Used by <c>validate --diff</c> and the reload audit to compare two
/// versions with the real matcher. Nothing listens and nothing is sent: clusters get a placeholder destination and no
/// health checks, because matching never looks at them.
/// </summary>
internal sealed class SnapshotRouter : IDisposable
{
    private const string PlaceholderDestination = "http://explain.invalid/";
    private readonly ServiceProvider _services;

    private SnapshotRouter(RouteClassSnapshot snapshot)
    {
        Snapshot = snapshot;
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddRouting();
        services.AddMetrics();
        services.AddSingleton(new DiagnosticListener("Gateway.Routing.Explain"));
        services.AddSingleton<DiagnosticSource>(sp => sp.GetRequiredService<DiagnosticListener>());
        services.AddReverseProxy().LoadFromMemory(ProxyConfigBuilder.Routes(snapshot), MatchOnlyClusters(snapshot));
        _services = services.BuildServiceProvider();
        Matcher = new EndpointMatcher(_services, static endpoints => endpoints.MapReverseProxy());
    }

    public RouteClassSnapshot Snapshot { get; }
    public EndpointMatcher Matcher { get; }

    public static SnapshotRouter Build(RouteClassSnapshot snapshot) => new(snapshot);

    public Task<RouteDecision> ExplainAsync(RequestProbe probe) => RouteExplainer.ExplainAsync(probe, Matcher, Snapshot);

    private static IReadOnlyList<ClusterConfig> MatchOnlyClusters(RouteClassSnapshot snapshot)
    {
        var clusters = new List<ClusterConfig>(snapshot.Clusters.Count);
        foreach (var name in snapshot.Clusters.Keys)
            clusters.Add(new ClusterConfig
            {
                ClusterId = name,
                Destinations = new Dictionary<string, DestinationConfig> { ["placeholder"] = new() { Address = PlaceholderDestination } },
            });
        return clusters;
    }

    public void Dispose() => _services.Dispose();
}
