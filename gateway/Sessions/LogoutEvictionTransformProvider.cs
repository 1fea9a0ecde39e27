using Gateway.Pipeline;
using Gateway.Routing;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Sessions;

/// <summary>
/// A logout the backend confirmed (a 2xx on a route marked <c>"sessionCookie": "clear"</c>: logout and logout-all) evicts
/// that session, and every other session of its user, from this instance's L1 before the answer reaches the client. The backend answers only once Redis has the revocation, and its
/// invalidation message evicts the session on every instance, but that message is handled on a thread of its own: a
/// client that sent its next request the moment the logout returned could be served from L1 in between (seen on a busy
/// CI host). The instance that carried the logout knows first; the others hear it through pub/sub.
/// </summary>
internal sealed class LogoutEvictionTransformProvider(L1SessionCache l1) : ITransformProvider
{
    public void ValidateRoute(TransformRouteValidationContext context) { }

    public void ValidateCluster(TransformClusterValidationContext context) { }

    public void Apply(TransformBuilderContext context)
    {
        if (context.Route.Metadata is not null && context.Route.Metadata.TryGetValue(ProxyConfigBuilder.SessionCookieKey, out var mode)
            && mode == RouteDefinition.CookieClear)
            context.AddResponseTransform(EvictOnLogout);
    }

    private ValueTask EvictOnLogout(ResponseTransformContext context)
    {
        if (context.ProxyResponse is not { IsSuccessStatusCode: true } || GatewayRequestFeature.Of(context.HttpContext) is not { } feature)
            return default;
        // Marked as invalidated too: a lookup already under way cannot put them back.
        if (feature.TokenHash is { } hex && TokenHash.TryParseHex(hex, out var hash)) l1.Invalidate(hash);
        // Every session of the user, not only the one that logged out: a logout-all revoked them all, and until
        // 2026-12-05 its user's other sessions were served from this instance's L1 until the message came. For a single
        // logout it costs the user's other sessions one Redis lookup each.
        if (feature.Principal?.UserId is { Length: > 0 } userId) l1.InvalidateUser(userId);
        return default;
    }
}
