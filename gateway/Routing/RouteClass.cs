using Microsoft.Extensions.Primitives;

namespace Gateway.Routing;

/// <summary>Who may call a route class.</summary>
internal enum AuthKind
{
    /// <summary>No session needed; identity headers are stripped and nothing is signed.</summary>
    Anonymous,
    /// <summary>A valid session is required.</summary>
    Session,
    /// <summary>A valid session and at least <see cref="RouteClass.MinimumRole"/> in the selected organisation.</summary>
    Role,
}

/// <summary>Organisation roles in increasing order of power: owner &gt; admin &gt; member.</summary>
internal enum OrgRole
{
    None = 0,
    Member = 1,
    Admin = 2,
    Owner = 3,
}

/// <summary>Parsing and ranking of organisation role names.</summary>
internal static class OrgRoles
{
    public static OrgRole Parse(string? role) => role switch
    {
        "member" => OrgRole.Member,
        "admin" => OrgRole.Admin,
        "owner" => OrgRole.Owner,
        _ => OrgRole.None,
    };
}

/// <summary>A route class from <c>config/route-classes.json</c> (section <c>classes</c>).</summary>
/// <param name="Name">The key under <c>classes</c>.</param>
/// <param name="Tier"><c>ultra-fast</c>, <c>critical-auth</c> or <c>standard</c>.</param>
/// <param name="BudgetMs">Latency budget in milliseconds (reported, not enforced).</param>
/// <param name="Auth">Auth requirement kind.</param>
/// <param name="MinimumRole">For <see cref="AuthKind.Role"/>: the least role accepted.</param>
/// <param name="TimeoutMs">Request timeout applied to proxied requests of this class.</param>
/// <param name="RateLimit">Name of a policy under <c>rateLimitPolicies</c>, or null.</param>
/// <param name="Cache">Name of a policy under <c>cachePolicies</c>, or null.</param>
/// <param name="FailMode"><c>closed</c> (default) or <c>resilient</c>: how sessions validate while Redis is down.</param>
/// <param name="MaxBodyBytes">Request body limit of this class in bytes; null (the default) keeps
/// <c>Kestrel:Limits:MaxRequestBodySize</c>. Replaces that limit for the class, so it may be lower or higher.</param>
/// <param name="Cors">The class's CORS policy (its <c>cors</c> field resolved at load), or null: no CORS answers at the edge.</param>
internal sealed record RouteClass(
    string Name, string Tier, double BudgetMs, AuthKind Auth, OrgRole MinimumRole, int TimeoutMs,
    string? RateLimit, string? Cache, string FailMode, long? MaxBodyBytes = null, CorsPolicyConfig? Cors = null)
{
    public const string FailClosed = "closed";
    public const string FailResilient = "resilient";

    /// <summary>Pre-built header value so setting <c>X-Route-Class</c> allocates nothing.</summary>
    public StringValues HeaderValue { get; } = new(Name);

    public bool IsResilient => FailMode == FailResilient;
}


/// <summary>A rate-limit policy (section <c>rateLimitPolicies</c>, keyed by name); the rate-limiting engine interprets it.</summary>
/// <param name="Algorithm"><c>fixed-window</c>, <c>sliding-window</c> or <c>token-bucket</c>.</param>
/// <param name="Limit">Requests allowed per window (token bucket: tokens added per window).</param>
/// <param name="WindowSeconds">Window length in seconds.</param>
/// <param name="Burst">Token bucket capacity; null means <paramref name="Limit"/>.</param>
/// <param name="Partition"><c>ip</c>, <c>user</c>, <c>account</c>, <c>ip+account</c>, <c>org</c> or <c>global</c>.</param>
internal sealed record RateLimitPolicyConfig(string Algorithm, int Limit, double WindowSeconds, int? Burst, string Partition);

/// <summary>A response-cache policy (section <c>cachePolicies</c>, keyed by name).</summary>
/// <param name="TtlSeconds">How long a response stays cached.</param>
/// <param name="VaryByOrg">When true the selected organisation is part of the cache key.</param>
internal sealed record CachePolicyConfig(double TtlSeconds, bool VaryByOrg);
