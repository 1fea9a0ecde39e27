using Gateway.Browsers;
using Gateway.Observability;
using Gateway.Pipeline;
using Gateway.Routing;
using Gateway.Trust;
using Microsoft.Extensions.Options;

namespace Gateway.Sessions;

/// <summary>
/// For classes that need a session: reads the token (one Bearer header or the session cookie, never the query),
/// checks its format, validates it, resolves the selected organisation and enforces the class's role.
/// Anonymous classes pass straight through. A cookie-authenticated state-changing request must pass the CSRF origin
/// check first (Bearer requests cannot be forged by another page and skip it); a cookie whose token is refused 401 is
/// cleared in that answer, so a browser stops sending a dead session (a logout after expiry included).
/// </summary>
internal sealed class SessionValidationMiddleware(RequestDelegate next, SessionValidator validator, SessionActivityTracker activity,
    IOptions<SessionOptions> options, GatewayMetrics metrics, CsrfOriginCheck csrf, SessionCookie sessionCookie)
{
    public const string SelectOrgHeader = "X-Select-Org";
    private readonly string _cookieName = options.Value.CookieName;

    public Task Invoke(HttpContext context)
    {
        var feature = GatewayRequestFeature.Of(context);
        var cls = feature?.Class;
        if (cls is null || cls.Auth == AuthKind.Anonymous) return next(context);

        var authorization = context.Request.Headers.Authorization;
        if (authorization.Count > 1) return GatewayProblems.MultipleAuthorization.WriteAsync(context);
        string? token;
        // A non-Bearer scheme (Basic credentials a browser keeps for a staging proxy in front) counts as no token, so the
        // session cookie is read: until 2026-12-06 it answered "missing token" with the cookie right there.
        bool bearer = authorization.Count == 1 && authorization[0] is { } auth && auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase);
        if (bearer)
        {
            string value = authorization[0]!;
            token = value;
            if (!SessionToken.IsWellFormed(value.AsSpan(7).Trim())) return Rejected(context);
        }
        else
        {
            token = Browsers.SessionCookie.Find(context.Request.Headers.Cookie, _cookieName);
            if (token is null) return GatewayProblems.MissingToken.WriteAsync(context);
            // Before anything else: a forged request costs no lookup and clears nothing.
            if (!csrf.Allows(context, cls)) return GatewayProblems.CsrfOriginMismatch.WriteAsync(context);
            if (!SessionToken.IsWellFormed(token))
            {
                sessionCookie.AppendClear(context.Response);
                return Rejected(context);
            }
        }
        bool fromCookie = !bearer;
        var hash = TokenHash.Compute(fromCookie ? token.AsSpan() : token.AsSpan(7).Trim());
        var stage = GatewayTracing.StartStage(feature!, context, GatewayStage.ValidateSession);
        feature!.ValidationBegan = validator.Generation;
        var pending = validator.ValidateAsync(hash, cls, context);
        return pending.IsCompletedSuccessfully
            ? Continue(context, feature!, cls, pending.Result, stage, fromCookie)
            : AwaitAsync(context, feature!, cls, pending, stage, fromCookie);
    }

    private async Task AwaitAsync(HttpContext context, GatewayRequestFeature feature, RouteClass cls, ValueTask<SessionValidation> pending,
        StageScope stage, bool fromCookie)
    {
        SessionValidation result;
        try
        {
            result = await pending.ConfigureAwait(false);
        }
        catch
        {
            // The class's deadline passed or the client left while the token was looked up: the time still counts as
            // this stage's, so the over-budget log and Server-Timing name it instead of "none".
            stage.Dispose();
            throw;
        }
        await Continue(context, feature, cls, result, stage, fromCookie).ConfigureAwait(false);
    }

    private Task Continue(HttpContext context, GatewayRequestFeature feature, RouteClass cls, SessionValidation result, StageScope stage, bool fromCookie)
    {
        stage.Dispose();
        metrics.RecordSessionValidation(result.Source, stage.ElapsedSeconds);
        RecordSessionCacheLookups(result.Source);
        feature.ValidationSource = result.Source;
        if (result.Outcome == SessionOutcome.Invalid)
        {
            if (fromCookie) sessionCookie.AppendClear(context.Response);
            return GatewayProblems.InvalidToken.WriteAsync(context);
        }
        if (result.Outcome == SessionOutcome.Unavailable) return GatewayProblems.ValidationUnavailable.WriteAsync(context);
        if (result.Outcome == SessionOutcome.Throttled) return Throttled(context, result.RetryAfter);

        var principal = result.Principal!;
        if (!TrySelectOrg(context, feature.RemovedPrefix, out string? selected)) return GatewayProblems.OrgConflict.WriteAsync(context);
        string? orgId = null, role = null;
        if (selected is not null)
        {
            // Use the principal's own spelling of the id: what gets signed is what the backend stored.
            foreach (var membership in principal.Orgs)
                if (string.Equals(membership.Id, selected, StringComparison.OrdinalIgnoreCase)) { orgId = membership.Id; role = membership.Role; break; }
            if (orgId is null) return GatewayProblems.OrgNotMember.WriteAsync(context);
        }
        if (cls.Auth == AuthKind.Role)
        {
            if (orgId is null) return GatewayProblems.OrgRequired.WriteAsync(context);
            if (OrgRoles.Parse(role) < cls.MinimumRole) return GatewayProblems.RoleTooLow.WriteAsync(context);
        }
        feature.Principal = principal;
        feature.TokenHash = result.HashHex;
        feature.OrgId = orgId;
        feature.OrgRole = role;
        activity.Record(result.HashHex!);
        return next(context);
    }

    /// <summary>A token that failed the format check: counted, answered 401, no Redis or backend call.</summary>
    private Task Rejected(HttpContext context)
    {
        metrics.RecordSessionValidation("rejected", 0);
        return GatewayProblems.InvalidToken.WriteAsync(context);
    }

    /// <summary>The client spent its unknown-token budget: 429 with <c>Retry-After</c> (whole seconds, at least 1).</summary>
    private static Task Throttled(HttpContext context, TimeSpan retryAfter)
    {
        long seconds = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return GatewayProblems.TooManyInvalidTokens.WriteAsync(context);
    }

    /// <summary>Session cache hit/miss per level, derived from where the validation was answered.</summary>
    private void RecordSessionCacheLookups(string source)
    {
        switch (source)
        {
            case "l1": metrics.RecordCacheLookup("session", "l1", hit: true); break;
            case "l2": metrics.RecordCacheLookup("session", "l1", hit: false); metrics.RecordCacheLookup("session", "l2", hit: true); break;
            case "backend": metrics.RecordCacheLookup("session", "l1", hit: false); metrics.RecordCacheLookup("session", "l2", hit: false); break;
        }
    }

    /// <summary>
    /// The organisation the request acts on: the id in <c>/orgs/{id}/...</c> when the path the backend gets names one
    /// (after the route's <c>pathRemovePrefix</c>: <c>/api/orgs/{id}</c> through a route removing <c>/api</c>), else
    /// <c>X-Select-Org</c>. False when the header names another organisation than the path: the membership and role
    /// checks, and the signed <c>X-Org-*</c>, must be about the organisation the backend acts on, not one the client
    /// picked beside it (a member of org A with admin in org B must not pass an admin route of A).
    /// </summary>
    private static bool TrySelectOrg(HttpContext context, string? removedPrefix, out string? selected)
    {
        string? inPath = OrgInPath(RouteClassificationMiddleware.BackendPath(context.Request.Path.Value.AsSpan(), removedPrefix));
        var header = context.Request.Headers[SelectOrgHeader];
        string? inHeader = header.Count == 1 && !string.IsNullOrWhiteSpace(header[0]) ? header[0]!.Trim() : null;
        selected = inPath ?? inHeader;
        return inPath is null || inHeader is null || string.Equals(inPath, inHeader, StringComparison.OrdinalIgnoreCase);
    }

    private static string? OrgInPath(ReadOnlySpan<char> path)
    {
        if (!path.StartsWith("/orgs/", StringComparison.OrdinalIgnoreCase)) return null;
        var rest = path[6..];
        int slash = rest.IndexOf('/');
        var segment = slash < 0 ? rest : rest[..slash];
        return Guid.TryParse(segment, out _) ? segment.ToString() : null;
    }
}
