using System.Security.Cryptography;
using System.Text;
using Backend.Infrastructure;
using Backend.Redis;
using Backend.Sessions;
using Gateway.Trust;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Backend.Internal;

/// <summary>Gateway-only endpoints (docs/contracts.md), guarded by <c>X-Gateway-Secret</c> compared in constant time.</summary>
internal static class InternalApi
{
    public sealed record IntrospectRequest(string? TokenHash);
    public sealed record TouchRequest(string[]? TokenHashes);
    private const int MaxTouchBatch = 10_000;

    public static IEndpointRouteBuilder MapInternalApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/internal/sessions").WithTags("Internal").AddEndpointFilter(RequireGatewaySecret);
        group.MapPost("/introspect", IntrospectAsync);
        group.MapPost("/touch", TouchAsync);
        return app;
    }

    private static async ValueTask<object?> RequireGatewaySecret(EndpointFilterInvocationContext ctx, EndpointFilterDelegate next)
    {
        var http = ctx.HttpContext;
        string expected = http.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<TrustOptions>>().Value.SharedSecret;
        string given = http.Request.Headers[IdentityHeaders.InternalSecret].ToString();
        if (expected.Length == 0 || !SecretEquals(expected, given))
        {
            // Never cacheable: the gateway must not remember a 401 from here as a negative answer.
            http.Response.Headers.CacheControl = "no-store";
            return Problems.UnauthorizedProblem("The gateway secret is missing or wrong.");
        }
        return await next(ctx);
    }

    /// <summary>Constant time in the secret's content (the length of the expected secret is not a secret).</summary>
    internal static bool SecretEquals(string expected, string given) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(expected)), SHA256.HashData(Encoding.UTF8.GetBytes(given)));

    internal static async Task<Results<Ok<SessionPrincipal>, ValidationProblem, ProblemHttpResult>> IntrospectAsync(
        IntrospectRequest request, SessionStore sessions, ISessionCache cache, TimeProvider time, HttpContext http)
    {
        http.Response.Headers.CacheControl = "no-store";
        if (!IsHash(request.TokenHash))
            return Problems.ValidationFailed(new() { ["tokenHash"] = ["tokenHash must be 64 lowercase hex characters."] });
        var principal = await sessions.IntrospectAsync(request.TokenHash!, time.GetUtcNow().UtcDateTime);
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
