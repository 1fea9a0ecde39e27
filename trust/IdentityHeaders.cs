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
    /// <summary>Id of the key that made <see cref="Signature"/>; the verifier looks it up among its configured keys.</summary>
    public const string KeyId = "X-Gateway-Key-Id";
    /// <summary>
    /// The client address the gateway determined (its peer, or the address its trusted proxies forwarded). Signed, and
    /// sent on every proxied request, anonymous ones included; empty when the gateway has none.
    /// </summary>
    public const string ClientIp = "X-Gateway-Client-Ip";
    /// <summary>Prefix of every header reserved for the gateway.</summary>
    public const string GatewayPrefix = "X-Gateway-";
    /// <summary>
    /// The internal-API credential on gateway-to-backend internal calls (introspection, touch). A secret of its own,
    /// never one of the signing keys: a team that holds a signing key cannot call <c>/internal/**</c>.
    /// </summary>
    public const string InternalSecret = "X-Gateway-Secret";
}
