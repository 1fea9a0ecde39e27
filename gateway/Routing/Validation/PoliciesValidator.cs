using System.Text.Json;

namespace Gateway.Routing.Validation;

/// <summary>The 'rateLimitPolicies' and 'cachePolicies' sections, which classes reference by name.</summary>
internal static class PoliciesValidator
{
    private static readonly string[] RateLimitProps = ["algorithm", "limit", "windowSeconds", "burst", "partition", "//"];
    private static readonly string[] CacheProps = ["ttlSeconds", "varyByOrg", "//"];

    /// <summary>The largest 'limit' or 'burst': five times it (the login policy's device holders) still fits an int.</summary>
    public const int MaxLimit = 100_000_000;

    public static Dictionary<string, RateLimitPolicyConfig> ParseRateLimitPolicies(JsonElement root, List<string> errors)
    {
        var result = new Dictionary<string, RateLimitPolicyConfig>(StringComparer.Ordinal);
        if (!ConfigJson.Section(root, "rateLimitPolicies", required: false, errors, out var section)) return result;
        foreach (var p in section.EnumerateObject())
        {
            string who = $"Rate-limit policy '{p.Name}'";
            if (!ConfigJson.IsObject(p.Value, who, errors)) continue;
            ConfigJson.UnknownProperties(p.Value, RateLimitProps, who, errors);
            string? algorithm = ConfigJson.RequiredString(p.Value, "algorithm", who, errors, $"Set 'algorithm' to one of: {string.Join(", ", RouteClassFileParser.Algorithms)}.");
            if (algorithm is not null && Array.IndexOf(RouteClassFileParser.Algorithms, algorithm) < 0)
                errors.Add($"{who} has unknown algorithm '{algorithm}'. Use one of: {string.Join(", ", RouteClassFileParser.Algorithms)}.");
            double limit = ConfigJson.PositiveNumber(p.Value, "limit", who, errors, required: true, integer: true) ?? 0;
            double window = ConfigJson.Seconds(p.Value, "windowSeconds", who, errors, required: true) ?? 0;
            double? burst = ConfigJson.PositiveNumber(p.Value, "burst", who, errors, required: false, integer: true);
            foreach (var (name, value) in (ReadOnlySpan<(string, double?)>)[("limit", limit), ("burst", burst)])
                if (value > MaxLimit)
                    errors.Add($"{who} has '{name}' {value}, above {MaxLimit:N0}, the largest the gateway counts (the login policy's device holders share five times it, which must fit its counters). Use a smaller value or a shorter 'windowSeconds'.");
            if (burst is not null && burst < limit)
                errors.Add($"{who} has 'burst' {burst} below 'limit' {limit}. Set 'burst' to at least the limit, or omit it.");
            string? partition = ConfigJson.RequiredString(p.Value, "partition", who, errors, $"Set 'partition' to one of: {string.Join(", ", RouteClassFileParser.Partitions)}.");
            if (partition is not null && Array.IndexOf(RouteClassFileParser.Partitions, partition) < 0)
                errors.Add($"{who} has unknown partition '{partition}'. Use one of: {string.Join(", ", RouteClassFileParser.Partitions)}.");
            result[p.Name] = new RateLimitPolicyConfig(algorithm ?? "", (int)Math.Min(limit, MaxLimit), window,
                burst is null ? null : (int)Math.Min(burst.Value, MaxLimit), partition ?? "");
        }
        return result;
    }

    public static Dictionary<string, CachePolicyConfig> ParseCachePolicies(JsonElement root, List<string> errors)
    {
        var result = new Dictionary<string, CachePolicyConfig>(StringComparer.Ordinal);
        if (!ConfigJson.Section(root, "cachePolicies", required: false, errors, out var section)) return result;
        foreach (var p in section.EnumerateObject())
        {
            string who = $"Cache policy '{p.Name}'";
            if (!ConfigJson.IsObject(p.Value, who, errors)) continue;
            ConfigJson.UnknownProperties(p.Value, CacheProps, who, errors);
            double ttl = ConfigJson.Seconds(p.Value, "ttlSeconds", who, errors, required: true) ?? 0;
            bool vary = false;
            if (p.Value.TryGetProperty("varyByOrg", out var v))
            {
                if (v.ValueKind is JsonValueKind.True or JsonValueKind.False) vary = v.GetBoolean();
                else errors.Add($"{who} has 'varyByOrg' {v.GetRawText()}, which is not a boolean. Use true or false.");
            }
            result[p.Name] = new CachePolicyConfig(ttl, vary);
        }
        return result;
    }
}
