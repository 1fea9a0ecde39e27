using System.Collections.Frozen;
using Gateway.Pipeline;
using Gateway.Routing;

namespace Gateway.RateLimiting;

/// <summary>
/// Resolves the rate-limit rule named by the request's route class from the live route-class file
/// (<see cref="IRouteTable.Current"/>), so a hot reload changes limits without a restart. Rules are rebuilt once per
/// snapshot, never per request.
/// </summary>
internal sealed class RouteTableRateLimitRuleResolver(IRouteTable routes) : IRateLimitRuleResolver
{
    private (RouteClassSnapshot Snapshot, FrozenDictionary<string, RateLimitRule> Rules)? _cache;

    public RateLimitRule? Resolve(HttpContext context)
    {
        if (GatewayRequestFeature.Of(context)?.RateLimitPolicy is not { } name) return null;
        return RulesFor(routes.Current).TryGetValue(name, out var rule) ? rule : null;
    }

    private FrozenDictionary<string, RateLimitRule> RulesFor(RouteClassSnapshot snapshot)
    {
        var cached = _cache;
        if (cached is { } c && ReferenceEquals(c.Snapshot, snapshot)) return c.Rules;
        var rules = new Dictionary<string, RateLimitRule>(StringComparer.OrdinalIgnoreCase);
        foreach (var (policy, p) in snapshot.RateLimitPolicies)
            rules[policy] = RateLimitRule.FromConfig(policy, p.Algorithm, p.Limit, p.WindowSeconds, p.Burst, p.Partition);
        var frozen = rules.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        _cache = (snapshot, frozen);
        return frozen;
    }
}
