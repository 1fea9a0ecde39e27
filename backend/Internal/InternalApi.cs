using System.Security.Cryptography;
using System.Text;
using Backend.Infrastructure;
using Backend.Redis;
using Backend.Sessions;
using Gateway.Trust;
using Microsoft.AspNetCore.Http.HttpResults;
using Gateway.Contracts;

namespace Backend.Internal;

/// <summary>
/// Gateway-only endpoints (docs/contracts.md), guarded by <c>X-Gateway-Secret</c> = <c>Trust:InternalSecret</c> compared in
/// constant time. A signing key is not accepted here: teams behind the gateway hold those.
/// </summary>
internal static class InternalApi
{
    /// <param name="Touch">False for a lookup that is not the user's activity (the gateway re-checking the session of
    /// an open stream): the idle expiry does not slide. Absent means true.</param>
    public sealed record IntrospectRequest(string? TokenHash, bool? Touch = null);
    public sealed record TouchRequest(string[]? TokenHashes);
    private const int MaxTouchBatch = 10_000;

    public static IEndpointRouteBuilder MapInternalApi(this IEndpointRouteBuilder app)
    {
        // The secret is checked by UseInternalSecret, before routing.
        var group = app.MapGroup("/internal/sessions").WithTags("Internal");
        group.MapPost("/introspect", IntrospectAsync);
        group.MapPost("/touch", TouchAsync);
        return app;
    }

    /// <summary>
    /// Guards every <c>/internal/**</c> path before routing and model binding, so that without the secret the answer is
    /// always 401 (never a 400 or 404 that would tell a caller anything).
    /// </summary>
    public static IApplicationBuilder UseInternalSecret(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        if (!http.Request.Path.StartsWithSegments("/internal")) { await next(http); return; }
        string expected = http.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<TrustOptions>>().Value.InternalSecret;
        string given = http.Request.Headers[IdentityHeaders.InternalSecret].ToString();
        if (expected.Length > 0 && SecretEquals(expected, given)) { await next(http); return; }
        http.Response.StatusCode = StatusCodes.Status401Unauthorized;
        // Never cacheable: the gateway must not remember a 401 from here as a negative answer.
        http.Response.Headers.CacheControl = "no-store";
        await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = new Microsoft.AspNetCore.Mvc.ProblemDetails
            {
                Status = 401, Type = ProblemTypes.Unauthorized, Title = "Unauthorized.", Detail = "The gateway secret is missing or wrong.",
            },
        });
    });

    /// <summary>Constant time in the secret's content (the length of the expected secret is not a secret).</summary>
    internal static bool SecretEquals(string expected, string given) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(expected)), SHA256.HashData(Encoding.UTF8.GetBytes(given)));

    internal static async Task<Results<Ok<SessionPrincipal>, ValidationProblem, ProblemHttpResult>> IntrospectAsync(
        IntrospectRequest request, SessionStore sessions, ISessionCache cache, TimeProvider time, HttpContext http)
    {
        http.Response.Headers.CacheControl = "no-store";
        if (!IsHash(request.TokenHash))
            return Problems.ValidationFailed(new() { ["tokenHash"] = ["tokenHash must be 64 lowercase hex characters."] });
        var now = time.GetUtcNow().UtcDateTime;
        var principal = request.Touch == false
            ? await sessions.FindPrincipalAsync(request.TokenHash!, now)
            : await sessions.IntrospectAsync(request.TokenHash!, now);
        if (principal is null) return Problems.NotFoundProblem("The session is unknown, revoked or expired.");
        await cache.SetAsync(principal.Value);
        return TypedResults.Ok(principal.Value.Principal);
    }

    internal static async Task<Results<NoContent, ValidationProblem>> TouchAsync(
        TouchRequest request, SessionStore sessions, ISessionCache cache, TimeProvider time)
    {
        var hashes = request.TokenHashes ?? [];
        if (hashes.Length > MaxTouchBatch || !Array.TrueForAll(hashes, IsHash))
            return Problems.ValidationFailed(new() { ["tokenHashes"] = [$"Up to {MaxTouchBatch} hashes of 64 lowercase hex characters."] });
        if (hashes.Length == 0) return TypedResults.NoContent();
        var principals = await sessions.TouchByHashesAsync(hashes, time.GetUtcNow().UtcDateTime);
        await Task.WhenAll(principals.Select(cache.SetAsync));
        return TypedResults.NoContent();
    }

    private static bool IsHash(string? value)
    {
        if (value is null || value.Length != SessionToken.HashHexLength) return false;
        foreach (char c in value) if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c)) return false;
        return true;
    }
}
