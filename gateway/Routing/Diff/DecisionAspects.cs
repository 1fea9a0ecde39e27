using System.Globalization;
using Gateway.Routing.Explain;

namespace Gateway.Routing.Diff;

/// <summary>One compared property of a resolved decision, rendered as text (null when it does not apply).</summary>
internal sealed record DecisionAspect(string Name, Func<RouteDecision, string?> Value);

/// <summary>
/// What a config diff compares for each sample request, on the resolved decision rather than the raw JSON, so a renamed
/// class with the same settings is no change and a class edit shows on every route using it. A new route-class or
/// cluster setting becomes visible in diffs by adding one line here. Only <c>auth</c> decides "weaker" (see
/// <see cref="ConfigDiff"/>); the others are reported as changes.
/// </summary>
internal static class DecisionAspects
{
    public static readonly DecisionAspect[] All =
    [
        new("auth", d => d.Access.ToString()),
        new("route", d => d.RouteId),
        new("class", d => d.Class.Name),
        new("tier", d => d.Class.Tier),
        new("budgetMs", d => Number(d.Class.BudgetMs)),
        new("timeoutMs", d => d.Class.TimeoutMs.ToString(CultureInfo.InvariantCulture)),
        new("failMode", d => d.Class.FailMode),
        new("maxBodyBytes", d => d.Class.MaxBodyBytes?.ToString(CultureInfo.InvariantCulture)),
        new("rateLimit", d => d.Class.RateLimit is null ? null : $"{d.Class.RateLimit} {Describe(d.RateLimit)}"),
        new("cache", d => d.Class.Cache is null ? null : $"{d.Class.Cache} {Describe(d.Cache)}"),
        new("cluster", d => d.Cluster is null ? d.ProxyRoute?.ClusterId : $"{d.Cluster.Name} [{Destinations(d.Cluster)}]"),
        new("transforms", d => Transforms(d)),
        new("cors", d => d.Class.Cors is { } p ? Describe(p) : null),
        new("sessionCookie", d => d.Route?.SessionCookie),
        new("evictsSessions", d => d.Route is { EvictsSessions: true } ? "true" : null),
        new("evictsCache", d => d.Route is { EvictsCache: true } or { EvictsSessions: true } ? "true" : null),
    ];

    /// <summary>Origins another site may act from with the user's cookie: a credentialed CORS policy's origins.</summary>
    public static IReadOnlySet<string> CredentialedOrigins(RouteDecision d) =>
        d.Class.Cors is { Credentials: true } p ? (p.AnyOrigin ? new HashSet<string> { CorsPolicyConfig.Wildcard } : p.Origins) : new HashSet<string>();

    public static string Describe(CorsPolicyConfig p) =>
        $"{p.Name} (origins {(p.AnyOrigin ? "*" : string.Join(" ", p.Origins.Order(StringComparer.Ordinal)))}; methods {string.Join(" ", p.Methods)}"
        + $"{(p.Credentials ? "; credentials" : "")}{(p.MaxAgeSeconds is { } m ? $"; max age {m} s" : "")})";

    public static string Describe(RateLimitPolicyConfig? p) => p is null ? "(undefined)"
        : $"({p.Algorithm}, {p.Limit} per {Number(p.WindowSeconds)} s{(p.Burst is { } b ? $", burst {b}" : "")}, per {p.Partition})";

    public static string Describe(CachePolicyConfig? p) => p is null ? "(undefined)"
        : $"({Number(p.TtlSeconds)} s{(p.VaryByOrg ? ", per organisation" : "")})";

    private static string Destinations(ClusterDefinition c) =>
        string.Join(", ", c.Destinations.OrderBy(d => d.Key, StringComparer.Ordinal).Select(d => $"{d.Key}={(d.Value.Length == 0 ? "Backend:BaseUrl" : d.Value)}"));

    /// <summary>YARP's transform list as it applies it (path prefix removal, header set/append/remove), one entry per transform.</summary>
    public static string? Transforms(RouteDecision d)
    {
        if (d.ProxyRoute?.Transforms is not { Count: > 0 } transforms) return null;
        return string.Join("; ", transforms.Select(t => string.Join(", ", t.Select(kv => $"{kv.Key}={kv.Value}"))));
    }

    private static string Number(double value) => value.ToString(CultureInfo.InvariantCulture);
}
