using System.ComponentModel.DataAnnotations;
using Gateway.Trust;

namespace Backend.Infrastructure;

/// <summary>What the backend trusts the gateway with. Section <c>Trust</c>; validated at start-up by <see cref="TrustOptionsValidator"/>.</summary>
internal sealed class TrustOptions
{
    /// <summary>
    /// The internal-API credential: the gateway sends it as <c>X-Gateway-Secret</c> on <c>/internal/**</c>. Required, at
    /// least 32 bytes, different from every signing key; outside Development not a repository secret.
    /// </summary>
    public string InternalSecret { get; set; } = "";

    /// <summary>
    /// The keys this backend accepts signatures by (the gateway's <c>Signing:Clusters:backend:Keys</c>), as
    /// <c>{ "id": "k1", "secret": "..." }</c>. Bound and validated by Gateway.Trust (<c>AddGatewayIdentity</c>); read
    /// here only to keep the internal secret apart from them.
    /// </summary>
    public List<GatewaySigningKey> SigningKeys { get; set; } = [];

    /// <summary>Allowed clock skew of signed requests. <value>The default is 30 seconds.</value></summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan AllowedClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Removed: split into <see cref="InternalSecret"/> and <see cref="SigningKeys"/>. Setting it fails the start.</summary>
    public string? SharedSecret { get; set; }
}
