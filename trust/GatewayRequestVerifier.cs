using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Gateway.Trust;

/// <summary>
/// Checks the gateway's signature on a request (docs/contracts.md, "Signed gateway headers") against the configured
/// keys: once per request, the result kept in <c>HttpContext.Features</c>. Singleton; rebuilds its key ring only when
/// the options change.
/// </summary>
public sealed class GatewayRequestVerifier(IOptionsMonitor<GatewayIdentityOptions> options)
{
    private sealed record Ring(GatewayIdentityOptions Options, GatewayKeyRing Keys);
    private volatile Ring? _ring;

    public GatewayVerification Verify(HttpContext context)
    {
        var cached = context.Features.Get<GatewayVerification>();
        if (cached is not null) return cached;
        var result = Check(context.Request);
        context.Features.Set(result);
        return result;
    }

    private GatewayVerification Check(HttpRequest request)
    {
        var headers = request.Headers;
        string userId = headers[IdentityHeaders.UserId].ToString();
        string sessionId = headers[IdentityHeaders.SessionId].ToString();
        string orgId = headers[IdentityHeaders.OrgId].ToString();
        string orgRole = headers[IdentityHeaders.OrgRole].ToString();
        string signature = headers[IdentityHeaders.Signature].ToString();
        string timestampText = headers[IdentityHeaders.Timestamp].ToString();
        string keyId = headers[IdentityHeaders.KeyId].ToString();
        string clientIp = headers[IdentityHeaders.ClientIp].ToString();

        bool any = userId.Length + sessionId.Length + orgId.Length + orgRole.Length + signature.Length + timestampText.Length
            + keyId.Length + clientIp.Length > 0;
        if (!any) return GatewayVerification.Unsigned;

        if ((userId.Length == 0) != (sessionId.Length == 0) || (userId.Length == 0 && orgId.Length + orgRole.Length > 0))
            return GatewayVerification.Invalid("Identity headers are incomplete: X-User-Id and X-Session-Id go together, and an organisation needs both.");
        if (signature.Length == 0) return GatewayVerification.Invalid("The gateway signature is missing.");
        if (keyId.Length == 0) return GatewayVerification.Invalid("The gateway key id is missing (v1 signatures are no longer accepted).");
        if (!long.TryParse(timestampText, NumberStyles.None, CultureInfo.InvariantCulture, out long timestamp))
            return GatewayVerification.Invalid("The gateway timestamp is missing or malformed.");

        var ring = CurrentRing();
        long now = (ring.Options.TimeProvider ?? TimeProvider.System).GetUtcNow().ToUnixTimeSeconds();
        if (Math.Abs(now - timestamp) > (long)ring.Options.AllowedClockSkew.TotalSeconds)
            return GatewayVerification.Invalid("The gateway signature is outside the allowed clock skew.");
        // An unknown key id is a key this service was never given (another cluster's) or one removed after a rotation.
        var key = ring.Keys.Find(keyId);
        if (key is null) return GatewayVerification.Invalid("The gateway signature names a key this service does not accept.");

        var identity = new SignedIdentity(userId, sessionId, orgId, orgRole);
        // The path as it arrived, whether or not the app strips a base from it (UsePathBase): the gateway signs the path
        // it sends, a cluster address's own path included.
        if (!key.Verify(request.Method, request.PathBase.Add(request.Path).Value ?? "/", request.QueryString.Value ?? "", timestamp, clientIp, identity, signature))
            return GatewayVerification.Invalid("The gateway signature is invalid.");

        IPAddress? address = null;
        if (clientIp.Length > 0 && !IPAddress.TryParse(clientIp, out address))
            return GatewayVerification.Invalid("The signed client address is malformed.");
        return new GatewayVerification(GatewayVerificationStatus.Valid, null, identity, address, key.KeyId);
    }

    // Options are validated at start-up (ValidateOnStart); a change at runtime that no longer builds a ring throws here,
    // which fails the request rather than letting it through unchecked.
    private Ring CurrentRing()
    {
        var current = options.Get(GatewayIdentityHandler.SchemeName);
        var ring = _ring;
        if (ring is not null && ReferenceEquals(ring.Options, current)) return ring;
        ring = new Ring(current, new GatewayKeyRing(current.SigningKeys));
        _ring = ring;
        return ring;
    }
}
