using Gateway.Pipeline;
using Gateway.Routing;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Browsers;

/// <summary>
/// Adds the session-cookie transforms to the routes marked <c>"sessionCookie"</c> in the route-class file, and only to
/// them: other routes carry no extra step. <c>issue</c> (login): <see cref="LoginCookie"/>; <c>clear</c> (logout):
/// the answer to a cookie-authenticated logout clears the cookie, unless it is a 5xx, where the session may still be
/// alive and the client retries with the cookie it still has (the backend's logout is idempotent). The gateway's own
/// 401 for a dead session clears it too (SessionValidationMiddleware), so a logout with an expired session still ends
/// with no cookie.
/// </summary>
internal sealed class SessionCookieTransformProvider(SessionCookie cookie, LoginCookie login) : ITransformProvider
{
    public void ValidateRoute(TransformRouteValidationContext context) { }

    public void ValidateCluster(TransformClusterValidationContext context) { }

    public void Apply(TransformBuilderContext context)
    {
        if (context.Route.Metadata is null || !context.Route.Metadata.TryGetValue(ProxyConfigBuilder.SessionCookieKey, out var mode)) return;
        if (mode == RouteDefinition.CookieIssue)
        {
            context.AddRequestTransform(login.OnRequestAsync);
            context.AddResponseTransform(login.OnResponseAsync);
        }
        else if (mode == RouteDefinition.CookieClear)
            context.AddResponseTransform(ClearOnLogout);
    }

    private ValueTask ClearOnLogout(ResponseTransformContext context)
    {
        var http = context.HttpContext;
        if (context.ProxyResponse is { } answer && (int)answer.StatusCode < 500 && cookie.AuthenticatesByCookie(http.Request))
            cookie.AppendClear(http.Response);
        return default;
    }
}
