using Gateway.Contracts;
using System.Globalization;
using Backend.Audit;
using Backend.Infrastructure;
using Backend.Invalidation;
using Backend.Passwords;
using Backend.Redis;
using Backend.Sessions;
using Gateway.Trust;
using Microsoft.AspNetCore.Http.HttpResults;
using System.Security.Claims;

namespace Backend.Users;

/// <summary><c>/auth/*</c>: registration, login, the caller's profile, logout.</summary>
internal static class AuthApi
{
    public static IEndpointRouteBuilder MapAuthApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/auth").WithTags("Auth");
        group.MapPost("/register", RegisterAsync);
        group.MapPost("/login", LoginAsync);
        group.MapGet("/me", MeAsync).RequireAuthorization();
        group.MapPost("/logout", LogoutAsync).RequireAuthorization();
        group.MapPost("/logout-all", LogoutAllAsync).RequireAuthorization();
        return app;
    }

    internal static async Task<Results<Created<UserDto>, ValidationProblem, ProblemHttpResult>> RegisterAsync(
        RegisterRequest request, UserStore users, PasswordHasher hasher, AuditLog audit, TimeProvider time, HttpContext http)
    {
        var errors = new Dictionary<string, string[]>();
        UserValidation.Email(request.Email, errors);
        UserValidation.Password(request.Password, "password", errors);
        UserValidation.Name(request.Name, errors);
        if (errors.Count > 0) return Problems.ValidationFailed(errors);

        // Cheap pre-check saves an Argon2 hash on the common duplicate; the unique index still decides races.
        if (await users.FindIdByEmailAsync(UserValidation.NormalizeEmail(request.Email!)) is not null) return DuplicateEmail();
        string hash = await hasher.HashAsync(request.Password!);
        var user = await users.CreateAsync(request.Email!, request.Name!, hash, time.GetUtcNow().UtcDateTime);
        if (user is null) return DuplicateEmail();
        await audit.RecordAsync(AuditEvents.Register, user.Id, null, http.ClientIp());
        return TypedResults.Created($"/users/{user.Id}", user);
    }

    private static ProblemHttpResult DuplicateEmail() =>
        TypedResults.Problem("An account with this email already exists.", statusCode: 409, title: "Duplicate email.", type: ProblemTypes.DuplicateEmail);

    internal static async Task<Results<Ok<LoginResponse>, ValidationProblem, ProblemHttpResult>> LoginAsync(
        LoginRequest request, UserStore users, SessionStore sessions, PasswordHasher hasher, LoginThrottle throttle,
        Gateway.Trust.LoginDeviceTokens devices, ISessionCache cache, AuditLog audit, TimeProvider time, HttpContext http)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(request.Email)) errors["email"] = ["Email is required."];
        else if (request.Email.Trim().Length > UserValidation.MaxEmail) errors["email"] = ["Email is not a valid address."];
        if (string.IsNullOrEmpty(request.Password)) errors["password"] = ["Password is required."];
        // No account can have a longer one (registration and password change cap it); refusing it here spares an
        // Argon2id pass over a megabyte of input.
        else if (request.Password.Length > 2 * UserValidation.MaxPassword) errors["password"] = [$"Password must be at most {UserValidation.MaxPassword} characters."];
        if (errors.Count > 0) return Problems.ValidationFailed(errors);

        string email = UserValidation.NormalizeEmail(request.Email!);
        string? ip = http.ClientIp();
        string account = Gateway.Trust.LoginDeviceTokens.AccountHash(email);
        // A client that signed in to this account before is counted per device, so strangers' failures cannot lock it out.
        string? device = request.DeviceToken is { } presented && devices.TryVerify(presented, account, time.GetUtcNow(), out string id) ? id : null;
        // Counted from here until its outcome is recorded: concurrent attempts cannot all pass the same budget.
        using var attempt = throttle.BeginLogin(email, ip, device, out var retryAfter);
        if (retryAfter is { } wait)
        {
            http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            return TypedResults.Problem("Too many sign-in attempts for this account or address, failed or still being checked. Retry after the number of seconds in 'Retry-After'.", statusCode: 429,
                title: "Too many attempts.", type: ProblemTypes.TooManyAttempts);
        }

        var found = await users.FindForLoginAsync(email);
        // Unknown emails are verified against a dummy hash: same work, same answer, similar timing.
        var check = await hasher.VerifyAsync(found?.PasswordHash, request.Password!);
        if (!check.Valid)
        {
            throttle.RecordFailure(email, ip, device);
            // An attempt on an unknown account is recorded by the SHA-256 of what was typed, not the text: people type
            // their password into the email field, and a log must not keep credentials. The hash still groups the
            // attempts on one address (the device tokens' account hash), and the domain says where they aim.
            object details = found is not null ? new { email }
                : new { accountHash = account, emailDomain = email.LastIndexOf('@') is int at and > 0 ? email[(at + 1)..] : null };
            await audit.RecordAsync(AuditEvents.LoginFailed, found?.User.Id, null, ip, details);
            return TypedResults.Problem("The email or password is incorrect.", statusCode: 401,
                title: "Invalid credentials.", type: ProblemTypes.InvalidCredentials);
        }

        var (user, verifiedHash) = found!.Value;
        string token = SessionToken.Create();
        // Only while the password is still the one verified: a change committed meanwhile revoked every session but its
        // own, and this one must not outlive it. The password given is no longer the account's: 401, not counted as a guess.
        if (await sessions.CreateAsync(user.Id, verifiedHash, SessionToken.Hash(token), ip, http.UserAgent(), time.GetUtcNow().UtcDateTime) is not { } principal)
            return TypedResults.Problem("The email or password is incorrect.", statusCode: 401,
                title: "Invalid credentials.", type: ProblemTypes.InvalidCredentials);
        throttle.RecordSuccess(email, device);
        if (check.NeedsRehash)
            await users.ReplacePasswordHashAsync(user.Id, verifiedHash, await hasher.HashAsync(request.Password!), time.GetUtcNow().UtcDateTime);

        // The body carries a bearer credential: no cache may keep it.
        http.Response.Headers.CacheControl = "no-store";
        await cache.SetAsync(principal);
        await audit.RecordAsync(AuditEvents.LoginSucceeded, user.Id, null, ip, new { sessionId = principal.Principal.SessionId });
        return TypedResults.Ok(new LoginResponse(token, principal.Principal.ExpiresAt.UtcDateTime, user, devices.Create(account, time.GetUtcNow())));
    }

    internal static async Task<Results<Ok<MeDto>, ProblemHttpResult>> MeAsync(ClaimsPrincipal caller, UserStore users)
    {
        var me = await users.GetMeAsync(caller.UserId(), caller.SessionId());
        return me is null ? Problems.NotFoundProblem("The user no longer exists.") : TypedResults.Ok(me);
    }

    internal static async Task<Results<NoContent, ProblemHttpResult>> LogoutAsync(
        ClaimsPrincipal caller, SessionStore sessions, InvalidationOutbox outbox, OutboxRelay relay, TimeProvider time, HttpContext http)
    {
        Guid userId = caller.UserId();
        Guid sessionId = caller.SessionId();
        var revoked = await sessions.RevokeAsync(userId, sessionId, time.GetUtcNow().UtcDateTime, "logout",
            new AuditEntry(AuditEvents.Logout, userId, null, http.ClientIp(), new { sessionId }));
        // Already revoked (a retry after 503, through an edge that still accepts it): wait for the first one's delivery.
        bool confirmed = revoked is not null
            ? await relay.ConfirmAsync([revoked.Entry], http.RequestAborted)
            : await relay.ConfirmAsync(await outbox.PendingAsync(userId, null), http.RequestAborted);
        return confirmed ? TypedResults.NoContent() : Problems.RevocationPendingProblem(http);
    }

    internal static async Task<Results<NoContent, ProblemHttpResult>> LogoutAllAsync(
        ClaimsPrincipal caller, SessionStore sessions, InvalidationOutbox outbox, OutboxRelay relay, AuditLog audit, TimeProvider time, HttpContext http)
    {
        Guid userId = caller.UserId();
        var revoked = await audit.ChangeAndRecordAsync(
            (conn, tx) => sessions.RevokeAllAsync(conn, tx, userId, time.GetUtcNow().UtcDateTime, "logout-all"),
            r => new AuditEntry(AuditEvents.LogoutAll, userId, null, http.ClientIp(), new { revoked = r.TokenHashes.Length }));
        // A repeat after 503 revokes nothing new (the first one did) and its own entry is only a publish: it waits for the
        // user's earlier entries too, or it answered 204 while the first one's fences had not reached the edge.
        bool confirmed = await relay.ConfirmAsync([revoked.Entry], http.RequestAborted)
            && await relay.ConfirmAsync(await outbox.PendingAsync(userId, null), http.RequestAborted);
        return confirmed ? TypedResults.NoContent() : Problems.RevocationPendingProblem(http);
    }
}
