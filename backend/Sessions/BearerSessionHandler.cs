using System.Security.Claims;
using System.Text.Encodings.Web;
using Gateway.Trust;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Backend.Sessions;

/// <summary>
/// Direct callers (no gateway): validates <c>Authorization: Bearer &lt;token&gt;</c> (or the <c>session</c> cookie)
/// against PostgreSQL: well-formed, hashed, a live, unexpired, not idle-expired session.
/// Produces the same claims as <see cref="GatewayIdentityHandler"/> so endpoints do not care which path was taken.
/// </summary>
internal sealed class BearerSessionHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    SessionStore store, TimeProvider time)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Bearer";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? token = ReadToken(Request);
        if (token is null) return AuthenticateResult.NoResult();
        if (!SessionToken.IsWellFormed(token)) return AuthenticateResult.Fail("Malformed session token.");
        var session = await store.FindLiveAsync(SessionToken.Hash(token), time.GetUtcNow().UtcDateTime);
        if (session is null) return AuthenticateResult.Fail("Unknown, revoked or expired session.");
        var identity = new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, session.Value.UserId.ToString()),
            new Claim(GatewayIdentityHandler.SessionIdClaim, session.Value.SessionId.ToString()),
        ], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    internal static string? ReadToken(HttpRequest request)
    {
        string auth = request.Headers.Authorization.ToString();
        if (auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return auth[7..].Trim();
        return request.Cookies.TryGetValue("session", out var cookie) && cookie.Length > 0 ? cookie : null;
    }
}
