namespace Gateway.Trust;

/// <summary>
/// The header names the gateway uses to hand a validated principal to a backend.
/// Clients can never set them: the gateway strips every one of them (and any <c>X-Gateway-*</c>) on every route.
/// </summary>
public static class IdentityHeaders
{
    public const string UserId = "X-User-Id";
    public const string SessionId = "X-Session-Id";
    public const string OrgId = "X-Org-Id";
    public const string OrgRole = "X-Org-Role";
    /// <summary>Unix time in seconds at which the gateway signed the request.</summary>
    public const string Timestamp = "X-Gateway-Timestamp";
    /// <summary>Base64url HMAC-SHA256 over <see cref="GatewaySignature.CanonicalString"/>.</summary>
    public const string Signature = "X-Gateway-Signature";
    /// <summary>Prefix of every header reserved for the gateway.</summary>
    public const string GatewayPrefix = "X-Gateway-";
    /// <summary>Shared secret header on gateway-to-backend internal calls (introspection, touch).</summary>
    public const string InternalSecret = "X-Gateway-Secret";
}
