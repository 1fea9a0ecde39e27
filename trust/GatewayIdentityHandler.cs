using System.Globalization;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Trust;

/// <summary>
/// Authentication handler for services behind the gateway: turns a request whose identity headers carry a valid
/// gateway signature into a <see cref="ClaimsPrincipal"/>.
/// No identity headers: no result (another scheme may authenticate). Identity headers without a valid,
/// fresh signature: failure, so the request is answered 401 and never treated as anonymous.
/// </summary>
public sealed class GatewayIdentityHandler(
    IOptionsMonitor<GatewayIdentityOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<GatewayIdentityOptions>(options, logger, encoder)
{
    public const string SchemeName = "Gateway";
    public const string SessionIdClaim = "sid";
    public const string OrgIdClaim = "org_id";
    public const string OrgRoleClaim = "org_role";

    private GatewaySignature? _signature;
    private string? _signatureSecret;

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var headers = Request.Headers;
        string userId = headers[IdentityHeaders.UserId].ToString();
        string sessionId = headers[IdentityHeaders.SessionId].ToString();
        string orgId = headers[IdentityHeaders.OrgId].ToString();
        string orgRole = headers[IdentityHeaders.OrgRole].ToString();
        string signature = headers[IdentityHeaders.Signature].ToString();
        string timestampText = headers[IdentityHeaders.Timestamp].ToString();

        bool anyIdentity = userId.Length + sessionId.Length + orgId.Length + orgRole.Length + signature.Length + timestampText.Length > 0;
        if (!anyIdentity) return Task.FromResult(AuthenticateResult.NoResult());

        if (userId.Length == 0 || sessionId.Length == 0)
            return Fail("Identity headers are incomplete: X-User-Id and X-Session-Id are required.");
        if (!long.TryParse(timestampText, NumberStyles.None, CultureInfo.InvariantCulture, out long timestamp))
            return Fail("The gateway timestamp is missing or malformed.");

        long now = (Options.TimeProvider ?? TimeProvider.System).GetUtcNow().ToUnixTimeSeconds();
        if (Math.Abs(now - timestamp) > (long)Options.AllowedClockSkew.TotalSeconds)
            return Fail("The gateway signature is outside the allowed clock skew.");

        var identity = new SignedIdentity(userId, sessionId, orgId, orgRole);
        if (!GetSignature().Verify(Request.Method, Request.Path.Value ?? "/", timestamp, identity, signature))
            return Fail("The gateway signature is invalid.");

        var claims = new List<Claim>(4)
        {
            new(ClaimTypes.NameIdentifier, userId),
            new(SessionIdClaim, sessionId),
        };
        if (orgId.Length > 0) claims.Add(new Claim(OrgIdClaim, orgId));
        if (orgRole.Length > 0) claims.Add(new Claim(OrgRoleClaim, orgRole));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, Scheme.Name));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name)));
    }

    private GatewaySignature GetSignature()
    {
        // Options can change at runtime (IOptionsMonitor); rebuild the signer only when the secret does.
        if (_signature is null || !ReferenceEquals(_signatureSecret, Options.SharedSecret))
        {
            _signature = new GatewaySignature(Options.SharedSecret);
            _signatureSecret = Options.SharedSecret;
        }
        return _signature;
    }

    private static Task<AuthenticateResult> Fail(string message) => Task.FromResult(AuthenticateResult.Fail(message));
}
