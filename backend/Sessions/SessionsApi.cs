using Backend.Invalidation;
using System.Security.Claims;
using Backend.Audit;
using Backend.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Backend.Sessions;

/// <summary><c>/users/me/sessions</c>: the caller's live sessions.</summary>
internal static class SessionsApi
{
    public static IEndpointRouteBuilder MapSessionsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/users/me/sessions").WithTags("Sessions").RequireAuthorization();
        group.MapGet("/", ListAsync);
        group.MapDelete("/{id:guid}", DeleteAsync);
        return app;
    }

    internal static async Task<Ok<Page<SessionInfo>>> ListAsync(
        ClaimsPrincipal caller, SessionStore sessions, TimeProvider time, string? cursor = null, int? limit = null) =>
        TypedResults.Ok(await sessions.ListAsync(caller.UserId(), caller.SessionId(), time.GetUtcNow().UtcDateTime, cursor, Cursor.ClampLimit(limit)));

    internal static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        Guid id, ClaimsPrincipal caller, SessionStore sessions, InvalidationOutbox outbox, OutboxRelay relay, TimeProvider time, HttpContext http)
    {
        Guid userId = caller.UserId();
        var revoked = await sessions.RevokeAsync(userId, id, time.GetUtcNow().UtcDateTime, "session-revoked",
            new AuditEntry(AuditEvents.SessionRevoked, userId, null, http.ClientIp(), new { sessionId = id }));
        // Not live: perhaps revoked by a first try that answered 503. Its repeat waits for the user's pending entries, so
        // the 404 that says the session is gone is not given while the edge may still accept it.
        if (revoked is null)
            return await relay.ConfirmAsync(await outbox.PendingAsync(userId, null), http.RequestAborted)
                ? Problems.NotFoundProblem("No live session with this id belongs to you.") : Problems.RevocationPendingProblem(http);
        return await relay.ConfirmAsync([revoked.Entry], http.RequestAborted) ? TypedResults.NoContent() : Problems.RevocationPendingProblem(http);
    }
}
