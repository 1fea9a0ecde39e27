using Gateway.Pipeline;
using Gateway.Routing;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Sessions;

/// <summary>
/// A change to the caller's sessions the backend confirmed (a 2xx on a logout route, <c>"sessionCookie": "clear"</c>, or
/// on a route marked <c>"evictsSessions": true</c>: password change, a session revoked from the list, a membership
/// change) evicts the calling session and every other session of its user, and of the user the route's <c>{userId}</c>
/// names, from this instance's L1 before the answer reaches the client. The backend answers only once Redis has the revocation, and its invalidation message evicts the
/// sessions on every instance, but that message is handled on a thread of its own: a client that sent its next request
/// the moment the answer returned could be served from L1 in between (seen on a busy CI host after a logout). The
/// instance that carried the change knows first; the others hear it through pub/sub.
/// </summary>
internal sealed class SessionEvictionTransformProvider(L1SessionCache l1) : ITransformProvider
{
    public void ValidateRoute(TransformRouteValidationContext context) { }

    public void ValidateCluster(TransformClusterValidationContext context) { }

    public void Apply(TransformBuilderContext context)
    {
        var metadata = context.Route.Metadata;
        if (metadata is null) return;
        if ((metadata.TryGetValue(ProxyConfigBuilder.SessionCookieKey, out var mode) && mode == RouteDefinition.CookieClear)
            || metadata.ContainsKey(ProxyConfigBuilder.EvictsSessionsKey))
            context.AddResponseTransform(EvictCallersSessions);
    }

    /// <summary>The route parameter naming another user whose sessions a marked route changes (<c>/orgs/{id}/members/{userId}</c>).</summary>
    public const string TargetUserRouteValue = "userId";

    private ValueTask EvictCallersSessions(ResponseTransformContext context)
    {
        if (context.ProxyResponse is not { IsSuccessStatusCode: true } || GatewayRequestFeature.Of(context.HttpContext) is not { } feature)
            return default;
        // Marked as invalidated too: a lookup already under way cannot put them back.
        if (feature.TokenHash is { } hex && TokenHash.TryParseHex(hex, out var hash)) l1.Invalidate(hash);
        // Every session of the user, not only the calling one: a logout-all or a password change revoked the others, and
        // until 2026-12-05 they were served from this instance's L1 until the message came. Where only the calling
        // session changed, it costs the user's other sessions one Redis lookup each.
        if (feature.Principal?.UserId is { Length: > 0 } userId) l1.InvalidateUser(userId);
        // And the user the route names, whose principal a membership change rewrote (an admin demoting or removing a
        // member): that member's sessions, not only the admin's, are looked up again.
        // Keyed as the backend spells user ids (lower-case, hyphens): it accepts any GUID spelling in the path, and
        // "/members/{ID-IN-UPPER-CASE}" or "{...}" in braces evicted nothing here until 2026-12-06.
        if (TargetUser(context.HttpContext, feature.Principal?.UserId) is { } targetUserId) l1.InvalidateUser(targetUserId);
        return default;
    }

    /// <summary>The user a route's <c>{userId}</c> names, spelled as the backend stores ids; null when none or the caller.</summary>
    public static string? TargetUser(HttpContext context, string? callerId) =>
        context.Request.RouteValues.TryGetValue(TargetUserRouteValue, out var raw) && raw is string { Length: > 0 } text
        && Guid.TryParse(text, out var id) && id.ToString("D") is var target && target != callerId
            ? target : null;
}
