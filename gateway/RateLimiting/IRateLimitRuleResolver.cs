using System.Collections.Frozen;
using Gateway.Pipeline;
using Microsoft.Extensions.Options;

namespace Gateway.RateLimiting;

/// <summary>Finds the rate-limit rule that applies to a request; null means not limited.</summary>
internal interface IRateLimitRuleResolver
{
    RateLimitRule? Resolve(HttpContext context);
}

/// <summary>
/// Default resolver: the policy name the classifier put in <see cref="GatewayRequestFeature.RateLimitPolicy"/>,
/// looked up in <see cref="RateLimitingOptions.Policies"/>.
/// </summary>
internal sealed class FeatureRateLimitRuleResolver : IRateLimitRuleResolver
{
    private readonly FrozenDictionary<string, RateLimitRule> _rules;

    public FeatureRateLimitRuleResolver(IOptions<RateLimitingOptions> options)
    {
        var rules = new Dictionary<string, RateLimitRule>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, p) in options.Value.Policies)
            rules[name] = RateLimitRule.FromConfig(name, p.Algorithm, p.Limit, p.WindowSeconds, p.Burst, p.Partition);
        _rules = rules.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }

    public RateLimitRule? Resolve(HttpContext context) =>
        GatewayRequestFeature.Of(context)?.RateLimitPolicy is { } name && _rules.TryGetValue(name, out var rule) ? rule : null;
}
