using Gateway.Contracts;
using Gateway.Pipeline;
using Gateway.Routing;
using Gateway.Sessions;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Gateway.Streams;

/// <summary>
/// After session validation: a WebSocket, gRPC call or event stream is kept out of response buffering and the response
/// cache, and registered under its session so a revocation or shutdown can close it; once the upstream answers it as a
/// stream it leaves the class's timeout and the tier's slot (<see cref="StreamAnsweredTransformProvider"/>). Ordinary
/// requests pass with one <see cref="StreamDetector"/> check.
/// </summary>
internal sealed class StreamMiddleware(RequestDelegate next, StreamRegistry registry, SessionValidator validator,
    Browsers.SessionCookie sessionCookie, IOptions<StreamOptions> options, RateLimiting.ClientIpResolver? clientIp = null)
{
    private static readonly GatewayProblems.Problem ShuttingDown = new(503, ProblemTypes.ShuttingDown, "Shutting down",
        "This gateway instance is shutting down and opens no new streams. Reconnect; another instance will answer.", null);
    private static readonly GatewayProblems.Problem TooManyStreams = new(429, ProblemTypes.TooManyStreams, "Too many open streams",
        "This user or address already has as many WebSockets and event streams open on this gateway as allowed. Close one, then retry.", null);
    private readonly int _maxPerUser = options.Value.MaxPerUser;
    private readonly int _maxPerAddress = options.Value.MaxPerAddress;

    public Task Invoke(HttpContext context)
    {
        var kind = StreamDetector.Detect(context);
        if (kind == StreamKind.None) return next(context);
        return InvokeStreamAsync(context, kind);
    }

    private async Task InvokeStreamAsync(HttpContext context, StreamKind kind)
    {
        if (registry.Draining)
        {
            context.Response.Headers.RetryAfter = "1";
            if (context.Request.Protocol == "HTTP/1.1") context.Response.Headers.Connection = "close";
            await ShuttingDown.WriteAsync(context).ConfigureAwait(false);
            return;
        }
        var feature = GatewayRequestFeature.Of(context);
        if (feature?.Class is not { } routeClass) { await next(context).ConfigureAwait(false); return; }   // not a proxied route
        var stream = registry.TryRegister(context, feature, kind, routeClass, CountsOf(context, feature, kind), _maxPerUser, _maxPerAddress);
        if (stream is null)
        {
            context.Response.Headers.RetryAfter = "1";
            await TooManyStreams.WriteAsync(context).ConfigureAwait(false);
            return;
        }

        try
        {
            if (await RefusedByALateInvalidationAsync(context, feature, stream).ConfigureAwait(false)) return;
            // Events and messages must reach the client as the upstream flushes them, and a stream is never a cacheable
            // answer (the response cache stage, next, resolves its policy from this feature).
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            feature.CachePolicy = null;
            // Until the upstream answers it as a stream, the opening is an ordinary request: the class's deadline and the
            // tier's slot stay. What the client declared is not enough to lift them: a POST sent with
            // Accept: text/event-stream (or a gRPC content-type) and a body trickled byte by byte would otherwise hold its
            // tier's slot for as long as it liked. StreamAnsweredTransformProvider lifts both when the answer comes.
            feature.StreamOpening = true;
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            registry.Unregister(stream);
        }
    }

    /// <summary>
    /// An invalidation handled after this request's session was validated but before its stream was registered closed
    /// nothing (there was nothing to close yet), and the next revalidation is up to <c>Streams:RevalidateInterval</c>
    /// away: a logout would have left the stream open until then. Registered first, then checked, so an invalidation is
    /// either seen here or closes the registered stream. When one came, the session is validated again (L1 was evicted
    /// by it: Redis or the backend answers). Refused: 401 for a session no longer valid, 403 for an organisation that no
    /// longer admits it; one still admitted goes on with the principal just read (its role may have changed). A session
    /// nobody can vouch for right now gets 503 on a fail-closed class, and keeps its stream on a resilient one.
    /// </summary>
    private async ValueTask<bool> RefusedByALateInvalidationAsync(HttpContext context, GatewayRequestFeature feature, OpenStream stream)
    {
        if (feature.TokenHash is not { } hex || feature.Principal is not { } principal
            || !validator.Overtaken(hex, principal.UserId, feature.ValidationBegan)
            || !TokenHash.TryParseHex(hex, out var hash)) return false;
        // Bounded as the validation stage's wait is: the class's deadline (504) and the client's leaving end it.
        var again = await validator.RevalidateAsync(hash, stream.RouteClass, context.RequestAborted).ConfigureAwait(false);
        GatewayProblems.Problem? refusal = null;
        if (again.Outcome == SessionOutcome.Invalid)
        {
            refusal = GatewayProblems.InvalidToken;
            // As the validation stage does: a browser stops sending a dead session cookie.
            if (context.Request.Headers.Authorization.Count == 0) sessionCookie.AppendClear(context.Response);
        }
        else if (again.Outcome == SessionOutcome.Valid && !StreamRevalidator.StillAdmitted(stream, again.Principal!))
            refusal = IsMember(again.Principal!, stream.OrgId) ? GatewayProblems.RoleTooLow : GatewayProblems.OrgNotMember;
        else if (again.Outcome == SessionOutcome.Valid)
        {
            // Still admitted, perhaps with another role: the identity headers signed for the upstream carry the new one.
            feature.Principal = again.Principal;
            feature.OrgRole = RoleIn(again.Principal!, stream.OrgId);
        }
        else if (!stream.RouteClass.IsResilient) refusal = GatewayProblems.ValidationUnavailable;   // as the validation stage answers
        if (refusal is null) return false;
        await refusal.WriteAsync(context).ConfigureAwait(false);
        return true;
    }

    private static bool IsMember(Contracts.SessionPrincipal principal, string? orgId) => RoleIn(principal, orgId) is not null;

    private static string? RoleIn(Contracts.SessionPrincipal principal, string? orgId)
    {
        if (orgId is null) return null;
        foreach (var membership in principal.Orgs)
            if (string.Equals(membership.Id, orgId, StringComparison.OrdinalIgnoreCase)) return membership.Role;
        return null;
    }

    /// <summary>
    /// Whose counts a stream takes a place in: its user's and its address's (an IPv6 client's network). gRPC calls are not
    /// counted: every unary call is one, and they share HTTP/2 connections that Kestrel bounds per connection.
    /// </summary>
    private StreamCounts CountsOf(HttpContext context, GatewayRequestFeature feature, StreamKind kind) => kind == StreamKind.Grpc
        ? StreamCounts.None
        : new(feature.Principal?.UserId is { Length: > 0 } user ? "user:" + user : null,
            "ip:" + (clientIp?.PartitionKey(context) ?? context.Connection.RemoteIpAddress?.ToString() ?? "unknown"));
}
