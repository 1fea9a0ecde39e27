using System.Text.Json;

namespace Gateway.Routing.Validation;

/// <summary>The 'classes' section: tier, budget, auth, timeout, and the policies each class references.</summary>
internal static class ClassesValidator
{
    private static readonly string[] ClassProps = ["tier", "budgetMs", "auth", "timeoutMs", "rateLimit", "cache", "failMode", "maxBodyBytes", "cors", "//"];
    private const string AuthValues = "'anonymous', 'session', 'role:member', 'role:admin' or 'role:owner'";

    public static Dictionary<string, RouteClass> ParseClasses(JsonElement root, Dictionary<string, RateLimitPolicyConfig> rateLimits,
        Dictionary<string, CachePolicyConfig> caches, Dictionary<string, CorsPolicyConfig> corsPolicies, List<string> errors)
    {
        var result = new Dictionary<string, RouteClass>(StringComparer.Ordinal);
        if (!ConfigJson.Section(root, "classes", required: true, errors, out var section)) return result;
        foreach (var p in section.EnumerateObject())
        {
            string who = $"Class '{p.Name}'";
            if (!ConfigJson.IsObject(p.Value, who, errors)) continue;
            int before = errors.Count;
            ConfigJson.UnknownProperties(p.Value, ClassProps, who, errors);

            string? tier = ConfigJson.RequiredString(p.Value, "tier", who, errors, $"Set 'tier' to one of: {string.Join(", ", RouteClassFileParser.Tiers)}.");
            if (tier is not null && Array.IndexOf(RouteClassFileParser.Tiers, tier) < 0)
                errors.Add($"{who} has unknown tier '{tier}'. Use one of: {string.Join(", ", RouteClassFileParser.Tiers)}.");

            double budget = ConfigJson.PositiveNumber(p.Value, "budgetMs", who, errors, required: true) ?? 0;
            // Whole milliseconds: 0.5 passed as positive, became a zero timeout, and YARP refused the route without naming the field.
            double timeout = ConfigJson.PositiveNumber(p.Value, "timeoutMs", who, errors, required: true, integer: true) ?? 0;
            if (timeout > int.MaxValue) errors.Add($"{who} has 'timeoutMs' {timeout}, which is too large. Use a value below {int.MaxValue}.");

            var auth = AuthKind.Session;
            var minRole = OrgRole.None;
            string? authText = ConfigJson.RequiredString(p.Value, "auth", who, errors, $"Set 'auth' to {AuthValues}.");
            if (authText is not null && !TryParseAuth(authText, out auth, out minRole))
                errors.Add($"{who} has invalid auth '{authText}'. Use {AuthValues}.");

            string? rateLimit = ConfigJson.OptionalString(p.Value, "rateLimit", who, errors);
            if (rateLimit is not null && !rateLimits.ContainsKey(rateLimit))
                errors.Add($"{who} references rate-limit policy '{rateLimit}', which is not defined. Define it under 'rateLimitPolicies' or use one of: {ConfigJson.Names(rateLimits.Keys)}.");
            string? cache = ConfigJson.OptionalString(p.Value, "cache", who, errors);
            if (cache is not null && !caches.ContainsKey(cache))
                errors.Add($"{who} references cache policy '{cache}', which is not defined. Define it under 'cachePolicies' or use one of: {ConfigJson.Names(caches.Keys)}.");
            string failMode = ConfigJson.OptionalString(p.Value, "failMode", who, errors) ?? RouteClass.FailClosed;
            if (Array.IndexOf(RouteClassFileParser.FailModes, failMode) < 0)
                errors.Add($"{who} has unknown failMode '{failMode}'. Use 'closed' (validate through the backend while Redis is down) or 'resilient' (also accept sessions already in the in-process cache).");

            long? maxBody = MaxBodyBytes(p.Value, who, errors);
            // Resolved here, once per load: the request path reads the policy from the class, never by name.
            string? corsName = ConfigJson.OptionalString(p.Value, "cors", who, errors);
            CorsPolicyConfig? cors = null;
            if (corsName is not null && !corsPolicies.TryGetValue(corsName, out cors))
                errors.Add($"{who} references CORS policy '{corsName}', which is not defined. Define it under 'corsPolicies' or use one of: {ConfigJson.Names(corsPolicies.Keys)}.");

            if (errors.Count == before)
                result[p.Name] = new RouteClass(p.Name, tier!, budget, auth, minRole, (int)timeout, rateLimit, cache, failMode, maxBody, cors);
            else
                result[p.Name] = new RouteClass(p.Name, tier ?? "", budget, auth, minRole, 1, rateLimit, cache, failMode);
        }
        if (result.Count == 0) errors.Add("'classes' is empty. Define at least the default class.");
        return result;
    }

    private static long? MaxBodyBytes(JsonElement e, string who, List<string> errors)
    {
        if (!e.TryGetProperty("maxBodyBytes", out var v)) return null;
        // TryGetInt64 refuses fractions and exponents such as 6.5e4, so "1.5" KiB-style guesses are caught, not truncated.
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out long bytes) && bytes > 0) return bytes;
        errors.Add($"{who} has 'maxBodyBytes' {v.GetRawText()}, which is not a positive whole number of bytes. " +
            "Use e.g. 65536 for 64 KiB, or remove it to use Kestrel:Limits:MaxRequestBodySize.");
        return null;
    }

    private static bool TryParseAuth(string text, out AuthKind kind, out OrgRole role)
    {
        role = OrgRole.None;
        kind = AuthKind.Session;
        if (text == "anonymous") { kind = AuthKind.Anonymous; return true; }
        if (text == "session") return true;
        if (text.StartsWith("role:", StringComparison.Ordinal))
        {
            role = OrgRoles.Parse(text[5..]);
            kind = AuthKind.Role;
            return role != OrgRole.None;
        }
        return false;
    }
}
