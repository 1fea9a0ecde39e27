using System.Collections.Frozen;

namespace Gateway.Routing;

/// <summary>
/// One validated, immutable version of <c>config/route-classes.json</c>. Swapped atomically on hot reload:
/// hold the reference for the duration of a request and every lookup stays consistent.
/// </summary>
internal sealed class RouteClassSnapshot
{
    private static long s_generations;

    public required string Version { get; init; }
    /// <summary>
    /// Unique to this snapshot in the process (the operator's <see cref="Version"/> need not change between edits). Carried
    /// by the YARP routes built from it (<see cref="ProxyConfigBuilder.SnapshotKey"/>), so a request is classified by the
    /// snapshot its route came from, not by a class that happens to have the same name in another.
    /// </summary>
    public string Generation { get; } = Interlocked.Increment(ref s_generations).ToString(System.Globalization.CultureInfo.InvariantCulture);
    public required RouteClass DefaultClass { get; init; }
    public required FrozenDictionary<string, RouteClass> Classes { get; init; }
    public required FrozenDictionary<string, RouteDefinition> Routes { get; init; }
    public required FrozenDictionary<string, ClusterDefinition> Clusters { get; init; }
    public required FrozenDictionary<string, RateLimitPolicyConfig> RateLimitPolicies { get; init; }
    public required FrozenDictionary<string, CachePolicyConfig> CachePolicies { get; init; }
    /// <summary>Section <c>corsPolicies</c>; each class holds its own resolved policy in <see cref="RouteClass.Cors"/>.</summary>
    public FrozenDictionary<string, CorsPolicyConfig> CorsPolicies { get; init; } = FrozenDictionary<string, CorsPolicyConfig>.Empty;
    /// <summary>Extra identity header names to strip, besides the built-in ones (section <c>identityHeaders.additional</c>).</summary>
    public required string[] AdditionalIdentityHeaders { get; init; }

    /// <summary>The class named <paramref name="name"/>, or the default class when it is unknown or null.</summary>
    public RouteClass ClassOrDefault(string? name) =>
        name is not null && Classes.TryGetValue(name, out var c) ? c : DefaultClass;
}
