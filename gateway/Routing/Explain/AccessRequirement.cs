namespace Gateway.Routing.Explain;

/// <summary>
/// What a caller needs to get through: anonymous &lt; session &lt; role:member &lt; role:admin &lt; role:owner. The order is
/// the session middleware's own (a role class needs a session and at least that role), so "lower rank" means "weaker".
/// </summary>
internal readonly record struct AccessRequirement(AuthKind Kind, OrgRole MinimumRole)
{
    public static AccessRequirement Of(RouteClass cls) => new(cls.Auth, cls.Auth == AuthKind.Role ? cls.MinimumRole : OrgRole.None);

    /// <summary>0 anonymous, 1 session, 2-4 role:member/admin/owner.</summary>
    public int Rank => Kind switch
    {
        AuthKind.Anonymous => 0,
        AuthKind.Session => 1,
        _ => 1 + (int)MinimumRole,
    };

    /// <summary>The spelling of the route-class file: <c>anonymous</c>, <c>session</c>, <c>role:admin</c>.</summary>
    public override string ToString() => Kind switch
    {
        AuthKind.Anonymous => "anonymous",
        AuthKind.Session => "session",
        _ => "role:" + MinimumRole.ToString().ToLowerInvariant(),
    };
}
