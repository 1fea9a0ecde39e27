using System.Collections.Frozen;
using Gateway.Pipeline;
using Gateway.Routing;

namespace Gateway.Caching;

/// <summary>
/// Resolves the response-cache policy named by the request's route class in the snapshot the class came from, built
/// once per snapshot so a hot reload applies new TTLs without a restart.
/// </summary>
internal sealed class RouteTableCachePolicyResolver(IRouteTable routes) : IResponseCachePolicyResolver
{
    private readonly PerSnapshot<FrozenDictionary<string, ResponseCachePolicy>> _policies = new(Build);

    public ResponseCachePolicy? Resolve(HttpContext context)
    {
        if (GatewayRequestFeature.Of(context) is not { CachePolicy: { } name } feature) return null;
        return _policies.For(feature.Snapshot ?? routes.Current).TryGetValue(name, out var policy) ? policy : null;
    }

    private static FrozenDictionary<string, ResponseCachePolicy> Build(RouteClassSnapshot snapshot) =>
        snapshot.CachePolicies.ToFrozenDictionary(p => p.Key,
            p => new ResponseCachePolicy(p.Key, TimeSpan.FromSeconds(p.Value.TtlSeconds), p.Value.VaryByOrg), StringComparer.Ordinal);
}
