using Yarp.ReverseProxy.Configuration;

namespace Gateway.Routing.Explain;

/// <summary>What the gateway does with a request, decided before any credential is looked at.</summary>
internal enum ExplainOutcome
{
    /// <summary>A route matched: proxied to its cluster once the class's checks pass.</summary>
    Proxied,
    /// <summary>An endpoint the gateway serves itself (tagged with <see cref="RouteClassMetadata"/>).</summary>
    ServedByGateway,
    /// <summary><c>/health</c> or <c>/ready</c>: answered first, without reading a header.</summary>
    HealthProbe,
    /// <summary>No route matches: 404, after the default class's checks (401 first without a session when it needs one).</summary>
    NotFound,
    /// <summary>A route matches the path but not the method: 405, after the default class's checks.</summary>
    MethodNotAllowed,
    /// <summary>A path the normalisation step refuses with 400 (an encoded slash, a backslash, <c>..;</c>).</summary>
    AmbiguousPath,
    /// <summary><c>/internal/**</c>: never proxied, 404 whatever the file says.</summary>
    InternalPath,
    /// <summary><c>/metrics</c> or <c>/gateway/*</c>: 404 on the public port, served on the operator listener only.</summary>
    OperatorPath,
}

/// <summary>
/// The resolved decision for one request: the same lookups the pipeline makes (route → class → policies → cluster).
/// Explain renders it; the config diff compares two of them per request, aspect by aspect (<see cref="Diff.DecisionAspects"/>).
/// </summary>
/// <param name="RoutedPath">The path routing saw, after the gateway's normalisation (merged slashes).</param>
/// <param name="Class">The class whose checks apply: the route's, the default class when none matched, <c>health</c> for probes.</param>
/// <param name="Route">The route definition from the file; null when no route matched.</param>
/// <param name="ProxyRoute">The YARP route that matched (its transforms as YARP applies them); null when none.</param>
/// <param name="Cluster">The route's cluster; null when nothing is proxied.</param>
/// <param name="RemovedHeaders">Request headers the identity hygiene step removes before routing.</param>
internal sealed record RouteDecision(
    ExplainOutcome Outcome, RequestProbe Request, string RoutedPath, string Version, RouteClass Class,
    RouteDefinition? Route, RouteConfig? ProxyRoute, ClusterDefinition? Cluster, RateLimitPolicyConfig? RateLimit, CachePolicyConfig? Cache,
    IReadOnlyList<string> RemovedHeaders)
{
    /// <summary>True when the request reaches something (a backend or a gateway endpoint); false for every 4xx decided by routing.</summary>
    public bool Served => Outcome is ExplainOutcome.Proxied or ExplainOutcome.ServedByGateway or ExplainOutcome.HealthProbe;

    public AccessRequirement Access => AccessRequirement.Of(Class);

    public string? RouteId => ProxyRoute?.RouteId ?? Route?.Name;

    /// <summary>The status the gateway answers without looking at credentials, or null when the class's checks decide.</summary>
    public int? FixedStatus => Outcome switch
    {
        ExplainOutcome.NotFound or ExplainOutcome.InternalPath or ExplainOutcome.OperatorPath => 404,
        ExplainOutcome.MethodNotAllowed => 405,
        ExplainOutcome.AmbiguousPath => 400,
        _ => null,
    };
}
