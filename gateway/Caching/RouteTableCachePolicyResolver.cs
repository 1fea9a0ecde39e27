using System.Collections.Frozen;
using Gateway.Pipeline;
using Gateway.Routing;

namespace Gateway.Caching;

/// <summary>
/// Resolves the response-cache policy named by the request's route class from the live route-class file, rebuilt
/// once per snapshot so a hot reload applies new TTLs without a restart.
/// </summary>
internal sealed class RouteTableCachePolicyResolver(IRouteTable routes) : IResponseCachePolicyResolver
{
    private (RouteClassSnapshot Snapshot, FrozenDictionary<string, ResponseCachePolicy> Policies)? _cache;

    public ResponseCachePolicy? Resolve(HttpContext context)
    {
        if (GatewayRequestFeature.Of(context)?.CachePolicy is not { } name) return null;
        return PoliciesFor(routes.Current).TryGetValue(name, out var policy) ? policy : null;
    }

    private FrozenDictionary<string, ResponseCachePolicy> PoliciesFor(RouteClassSnapshot snapshot)
    {
        var cached = _cache;
        if (cached is { } c && ReferenceEquals(c.Snapshot, snapshot)) return c.Policies;
        var policies = new Dictionary<string, ResponseCachePolicy>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, p) in snapshot.CachePolicies)
            policies[name] = new ResponseCachePolicy(name, TimeSpan.FromSeconds(p.TtlSeconds), p.VaryByOrg);
        var frozen = policies.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        _cache = (snapshot, frozen);
        return frozen;
    }
}
