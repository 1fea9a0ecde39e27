using Gateway.Contracts;
using System.Security.Claims;
using Backend.Audit;
using Backend.Infrastructure;
using Backend.Invalidation;
using Backend.Passwords;
using Backend.Sessions;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Backend.Users;

/// <summary><c>/users/*</c>: profile and password of the caller.</summary>
internal static class UsersApi
{
    public static IEndpointRouteBuilder MapUsersApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/users").WithTags("Users").RequireAuthorization();
        group.MapPut("/profile", UpdateProfileAsync);
        group.MapPut("/password", ChangePasswordAsync);
        return app;
    }

    internal static async Task<Results<Ok<UserDto>, ValidationProblem, ProblemHttpResult>> UpdateProfileAsync(
        ProfileRequest request, ClaimsPrincipal caller, UserStore users, OutboxRelay relay, TimeProvider time)
    {
        var errors = new Dictionary<string, string[]>();
        UserValidation.Name(request.Name, errors);
        UserValidation.Optional(request.DisplayName, "displayName", 200, errors);
        UserValidation.Optional(request.Locale, "locale", 35, errors);
        UserValidation.Optional(request.Timezone, "timezone", 64, errors);
        // An empty string is no zone either (it was stored, and clients then failed to parse it); null clears it. The id
        // must be the zone's exact spelling: .NET's zone cache ignores letter case, so "europe/paris" was refused until
        // some request had loaded "Europe/Paris", and stored as typed after that.
        if (request.Timezone is { } tz && !UserValidation.IsTimeZoneId(tz))
            errors["timezone"] = ["Timezone is not a known IANA time zone (null clears it)."];
        if (errors.Count > 0) return Problems.ValidationFailed(errors);

        Guid userId = caller.UserId();
        if (await users.UpdateProfileAsync(userId, request, time.GetUtcNow().UtcDateTime) is not { } updated)
            return Problems.NotFoundProblem("The user no longer exists.");
        var (user, invalidation) = updated;
        // Only cached responses are stale (no session changed): delivered best effort, the outbox retries the rest.
        await relay.ConfirmAsync([invalidation]);
        return TypedResults.Ok(user);
    }

    internal static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> ChangePasswordAsync(
        PasswordChangeRequest request, ClaimsPrincipal caller, UserStore users, SessionStore sessions, PasswordHasher hasher,
        LoginThrottle throttle, OutboxRelay relay, AuditLog audit, TimeProvider time, HttpContext http)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrEmpty(request.CurrentPassword)) errors["currentPassword"] = ["The current password is required."];
        UserValidation.Password(request.NewPassword, "newPassword", errors);
        if (errors.Count > 0) return Problems.ValidationFailed(errors);

        Guid userId = caller.UserId();
        string? stored = await users.GetPasswordHashAsync(userId);
        if (stored is null) return Problems.NotFoundProblem("The user no longer exists.");
        // A stolen session must not become a way to guess the password: the login throttle applies here too.
        using var attempt = throttle.BeginPasswordChange(userId, http.ClientIp(), out var retryAfter);
        if (retryAfter is { } wait)
        {
            http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return TypedResults.Problem("Too many failed attempts. Retry later.", statusCode: 429, title: "Too many attempts.", type: ProblemTypes.TooManyAttempts);
        }
        if (!(await hasher.VerifyAsync(stored, request.CurrentPassword!)).Valid)
        {
            throttle.RecordPasswordChangeFailure(userId, http.ClientIp());
            await audit.RecordAsync(AuditEvents.PasswordChangeFailed, userId, null, http.ClientIp(), new { sessionId = caller.SessionId() });
            return TypedResults.Problem("The current password is incorrect.", statusCode: 403, title: "Invalid credentials.", type: ProblemTypes.InvalidCredentials);
        }

        string newHash = await hasher.HashAsync(request.NewPassword!);
        var now = time.GetUtcNow().UtcDateTime;
        // The row is updated before the sessions are revoked: a login inserting a session holds the row FOR SHARE
        // (SessionStore.CreateAsync), so it either finishes first and is revoked here, or finds the new hash.
        var revoked = await audit.ChangeAndRecordAsync(
            async (conn, tx) => await users.ReplacePasswordHashAsync(userId, stored, newHash, now, conn, tx)
                ? await sessions.RevokeAllAsync(conn, tx, userId, now, "password-change", keep: caller.SessionId())
                : null,
            r => r is null ? null : new AuditEntry(AuditEvents.PasswordChanged, userId, null, http.ClientIp(), new { revokedSessions = r.TokenHashes.Length }));
        if (revoked is null)
            return Problems.ConflictProblem("The password was changed by another request while this one was checked. Send the request again with the current password.");
        return await relay.ConfirmAsync([revoked.Entry], http.RequestAborted) ? TypedResults.NoContent()
            : Problems.RevocationPendingProblem(http, doNotRepeat: "The new password is in effect; a repeat would be checked against it and refused.");
    }
}
