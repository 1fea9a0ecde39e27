using System.Collections.Frozen;
using Gateway.Pipeline;
using Gateway.Routing;

namespace Gateway.RateLimiting;

/// <summary>
/// Resolves the rate-limit rule named by the request's route class in the snapshot the class came from (the live
/// route-class file, <see cref="IRouteTable.Current"/>, for every request but those matched just before a reload), so a
/// hot reload changes limits without a restart. Rules are built once per snapshot, never per request.
/// </summary>
internal sealed class RouteTableRateLimitRuleResolver(IRouteTable routes) : IRateLimitRuleResolver
{
    private readonly PerSnapshot<FrozenDictionary<string, RateLimitRule>> _rules = new(Build);

    public RateLimitRule? Resolve(HttpContext context)
    {
        if (GatewayRequestFeature.Of(context) is not { RateLimitPolicy: { } name } feature) return null;
        return _rules.For(feature.Snapshot ?? routes.Current).TryGetValue(name, out var rule) ? rule : null;
    }

    private static FrozenDictionary<string, RateLimitRule> Build(RouteClassSnapshot snapshot) =>
        snapshot.RateLimitPolicies.ToFrozenDictionary(p => p.Key,
            p => RateLimitRule.FromConfig(p.Key, p.Value.Algorithm, p.Value.Limit, p.Value.WindowSeconds, p.Value.Burst, p.Value.Partition),
            StringComparer.Ordinal);
}
