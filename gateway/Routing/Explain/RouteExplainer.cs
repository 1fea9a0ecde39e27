using Gateway.Health;
using Gateway.Identity;
using Gateway.Proxy;
using Gateway.Observability;
using Yarp.ReverseProxy.Model;

namespace Gateway.Routing.Explain;

/// <summary>
/// Walks a request through the steps of <c>GatewayApp.Configure</c> that decide where it goes, in their order: health
/// probes, identity-header hygiene, path normalisation, the operator/public split, endpoint routing (the real matcher),
/// classification and the <c>/internal</c> refusal. Everything after that depends on the caller's credentials and is
/// described by the class (auth requirement, policies), not simulated.
/// </summary>
internal static class RouteExplainer
{
    /// <summary>The class <c>X-Route-Class</c> names on probe answers; probes need no credentials whatever the file says.</summary>
    private static readonly RouteClass HealthClass = RouteClassMetadata.Operator.Class;

    /// <param name="settingsIdentityHeaders"><c>IdentityHeaders:Additional</c>: hygiene strips them as it strips the file's.</param>
    public static async Task<RouteDecision> ExplainAsync(RequestProbe probe, EndpointMatcher matcher, RouteClassSnapshot snapshot,
        IReadOnlyCollection<string>? settingsIdentityHeaders = null)
    {
        string path = probe.Path;
        if (string.Equals(path, "/health", StringComparison.OrdinalIgnoreCase) || string.Equals(path, "/ready", StringComparison.OrdinalIgnoreCase))
            return Decide(ExplainOutcome.HealthProbe, probe, path, snapshot, HealthClass, [], null);

        var identity = new IdentityHeaderMatcher([.. settingsIdentityHeaders ?? [], .. snapshot.AdditionalIdentityHeaders]);
        var removed = new List<string>();
        var kept = new List<KeyValuePair<string, string>>(probe.Headers.Count);
        // As the hygiene stage does before routing, for a client that is not a trusted proxy (the usual caller):
        // identity headers, and the forwarding headers only a trusted proxy may send (Proxy/ForwardingHeaderNames).
        foreach (var header in probe.Headers)
            if (identity.IsIdentityHeader(header.Key) || ForwardingHeaderNames.AllowedSender(header.Key) != ForwardingHeaderNames.Sender.Anyone)
                removed.Add(header.Key);
            else kept.Add(header);
        var routed = removed.Count == 0 ? probe : probe with { Headers = kept };

        switch (PathNormalisationMiddleware.Inspect(path))
        {
            case PathNormalisationMiddleware.PathShape.Ambiguous:
                return Decide(ExplainOutcome.AmbiguousPath, probe, path, snapshot, snapshot.DefaultClass, removed, null);
            case PathNormalisationMiddleware.PathShape.EmptySegments:
                path = PathNormalisationMiddleware.MergeSlashes(path);
                break;
        }
        if (AdminListener.IsOperatorPath(new PathString(path)))
            return Decide(ExplainOutcome.OperatorPath, probe, path, snapshot, snapshot.DefaultClass, removed, null);

        var endpoint = await matcher.MatchAsync(routed, path).ConfigureAwait(false);
        var route = endpoint?.Metadata.GetMetadata<RouteModel>();
        string? className = null, removedPrefix = null;
        if (route is not null)
        {
            route.Config.Metadata?.TryGetValue(ProxyConfigBuilder.RouteClassKey, out className);
            route.Config.Metadata?.TryGetValue(ProxyConfigBuilder.PathRemovePrefixKey, out removedPrefix);
        }
        var cls = (route is null ? endpoint?.Metadata.GetMetadata<RouteClassMetadata>()?.Class : null) ?? snapshot.ClassOrDefault(className);

        var outcome = RouteClassificationMiddleware.ReachesInternal(new PathString(path), removedPrefix)
            ? ExplainOutcome.InternalPath
            : route is not null ? ExplainOutcome.Proxied
            : endpoint is null ? ExplainOutcome.NotFound
            : endpoint.DisplayName == MethodNotAllowedProblem.RoutingEndpointName ? ExplainOutcome.MethodNotAllowed
            : ExplainOutcome.ServedByGateway;
        return Decide(outcome, probe, path, snapshot, cls, removed, outcome == ExplainOutcome.Proxied ? route : null);
    }

    private static RouteDecision Decide(ExplainOutcome outcome, RequestProbe probe, string path, RouteClassSnapshot snapshot, RouteClass cls,
        IReadOnlyList<string> removed, RouteModel? route)
    {
        RouteDefinition? definition = null;
        ClusterDefinition? cluster = null;
        if (route is not null)
        {
            snapshot.Routes.TryGetValue(route.Config.RouteId, out definition);
            if (route.Config.ClusterId is { } id) snapshot.Clusters.TryGetValue(id, out cluster);
        }
        var rateLimit = cls.RateLimit is { } r && snapshot.RateLimitPolicies.TryGetValue(r, out var rl) ? rl : null;
        var cache = cls.Cache is { } c && snapshot.CachePolicies.TryGetValue(c, out var cp) ? cp : null;
        return new RouteDecision(outcome, probe, path, snapshot.Version, cls, definition, route?.Config, cluster, rateLimit, cache, removed);
    }
}
