using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Trust;

/// <summary>
/// Authentication handler for services behind the gateway: turns a request whose identity headers carry a valid
/// gateway signature into a <see cref="ClaimsPrincipal"/>.
/// No gateway headers, or a valid signature over an anonymous request: no result (another scheme may authenticate).
/// Gateway headers without a valid, fresh signature: failure, so the request is answered 401 and never treated as
/// anonymous.
/// </summary>
public sealed class GatewayIdentityHandler(
    IOptionsMonitor<GatewayIdentityOptions> options, ILoggerFactory logger, UrlEncoder encoder, GatewayRequestVerifier verifier)
    : AuthenticationHandler<GatewayIdentityOptions>(options, logger, encoder)
{
    public const string SchemeName = "Gateway";
    public const string SessionIdClaim = "sid";
    public const string OrgIdClaim = "org_id";
    public const string OrgRoleClaim = "org_role";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var verification = verifier.Verify(Context);
        if (verification.Status == GatewayVerificationStatus.Invalid) return Task.FromResult(AuthenticateResult.Fail(verification.Failure!));
        if (verification.Status == GatewayVerificationStatus.Unsigned || !verification.HasUser) return Task.FromResult(AuthenticateResult.NoResult());

        var identity = verification.Identity;
        var claims = new List<Claim>(4)
        {
            new(ClaimTypes.NameIdentifier, identity.UserId),
            new(SessionIdClaim, identity.SessionId),
        };
        if (identity.OrgId.Length > 0) claims.Add(new Claim(OrgIdClaim, identity.OrgId));
        if (identity.OrgRole.Length > 0) claims.Add(new Claim(OrgRoleClaim, identity.OrgRole));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, Scheme.Name));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name)));
    }
}
