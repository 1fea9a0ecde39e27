namespace Gateway.Routing;

/// <summary>
/// Endpoint metadata giving the route class of an endpoint the gateway serves itself (not proxied), e.g.
/// <c>app.MapGet("/gateway/status", ...).WithMetadata(RouteClassMetadata.Operator)</c>. The class is built in, not looked
/// up in the route-class file: the operator endpoints followed whatever the file called <c>health</c>, so a file without
/// one (nothing requires it) put <c>/metrics</c> and <c>/gateway/*</c> under its default class, and a session default
/// answered every scrape 401 before the admin check ran; a rate limit on the file's <c>health</c> limited scrapes.
/// </summary>
internal sealed record RouteClassMetadata(RouteClass Class)
{
    /// <summary>
    /// Probes and operator endpoints: anonymous (the operator listener and <c>RequireAdminAccess</c> guard them), no rate
    /// limit, no cache, the ultra-fast tier's budget. Named <c>health</c>, as <c>X-Route-Class</c> has always said.
    /// </summary>
    public static readonly RouteClassMetadata Operator =
        new(new RouteClass("health", "ultra-fast", 0, AuthKind.Anonymous, OrgRole.None, 0, null, null, RouteClass.FailClosed));
}
