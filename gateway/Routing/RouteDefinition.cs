namespace Gateway.Routing;

/// <summary>
/// A proxied route (section <c>routes</c>): a path pattern, optional methods, hosts and header matches, its class and
/// cluster, and the operator's header transforms.
/// </summary>
/// <param name="PathRemovePrefix">Literal prefix removed before forwarding (e.g. <c>/api</c>: <c>/api/x</c> → <c>/x</c>); null keeps the path.</param>
/// <param name="Hosts">Host names the route matches (<c>api.example.com</c>, <c>*.example.com</c>, optional <c>:port</c>); empty matches every host.</param>
/// <param name="Headers">Request headers that must match too (all of them); empty matches every request.</param>
/// <param name="RequestHeaders">Header changes made to the request sent to the cluster; null changes nothing.</param>
/// <param name="ResponseHeaders">Header changes made to the cluster's response (on every status); null changes nothing.</param>
/// <param name="SessionCookie"><c>issue</c> (a login route: the gateway sets the session cookie from the answer's token),
/// <c>clear</c> (a logout route: the gateway clears it), or null.</param>
/// <param name="EvictsSessions">A 2xx answer may have revoked or changed sessions of the caller's user, or of the user
/// the route's <c>{userId}</c> names (a password change, a session revoked from the session list, a membership change,
/// a new organisation): the instance that carried it evicts those users' sessions from its L1 before answering, instead
/// of serving them from L1 until the invalidation message is handled. Logout routes (<c>sessionCookie: clear</c>) do so anyway.</param>
/// <param name="EvictsCache">A 2xx answer may have changed what the caller's cached responses show (a profile change):
/// the instance that carried it evicts them before answering (<c>WriteEvictionTransformProvider</c>), so the caller's
/// next read is not the cached old answer. Routes marked <c>evictsSessions</c> do so too.</param>
internal sealed record RouteDefinition(string Name, string Path, IReadOnlyList<string> Methods, string Class, string Cluster, string? PathRemovePrefix = null,
    IReadOnlyList<string>? Hosts = null, IReadOnlyList<RouteHeaderMatch>? Headers = null,
    HeaderTransforms? RequestHeaders = null, HeaderTransforms? ResponseHeaders = null, string? SessionCookie = null, bool EvictsSessions = false,
    bool EvictsCache = false)
{
    public const string CookieIssue = "issue";
    public const string CookieClear = "clear";
}

/// <summary>One header condition of a route (YARP <c>RouteHeader</c>).</summary>
/// <param name="Mode">A YARP <c>HeaderMatchMode</c> name: <c>ExactHeader</c> (default), <c>HeaderPrefix</c>, <c>Contains</c>,
/// <c>NotContains</c>, <c>Exists</c> or <c>NotExists</c>.</param>
/// <param name="Values">Values to match, any of them; empty for <c>Exists</c>/<c>NotExists</c>.</param>
/// <param name="IsCaseSensitive">Whether values compare case-sensitively. The default is false.</param>
internal sealed record RouteHeaderMatch(string Name, IReadOnlyList<string> Values, string Mode, bool IsCaseSensitive);

/// <summary>Operator header transforms of a route, applied in the order set, append, remove.</summary>
internal sealed record HeaderTransforms(
    IReadOnlyList<KeyValuePair<string, string>> Set, IReadOnlyList<KeyValuePair<string, string>> Append, IReadOnlyList<string> Remove);
