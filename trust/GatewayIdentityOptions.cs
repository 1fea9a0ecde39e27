using Microsoft.AspNetCore.Authentication;

namespace Gateway.Trust;

/// <summary>Options of the <see cref="GatewayIdentityHandler"/> and <see cref="GatewayRequestVerifier"/>.</summary>
public sealed class GatewayIdentityOptions : AuthenticationSchemeOptions
{
    /// <summary>
    /// The keys of this service's cluster (<c>Signing:Clusters:&lt;cluster&gt;:Keys</c> on the gateway). A signature by
    /// any of them is accepted, found by <c>X-Gateway-Key-Id</c>; during a rotation list the old and the new key, and
    /// remove the old one once the gateway signs with the new one. Required: at least one key; every secret at least
    /// 32 bytes, and outside Development not a repository secret (see <see cref="GatewaySecrets"/>).
    /// </summary>
    public List<GatewaySigningKey> SigningKeys { get; set; } = [];

    /// <summary>How far the signed timestamp may differ from this server's clock. <value>The default is 30 seconds.</value></summary>
    public TimeSpan AllowedClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Where the options were bound from, for start-up errors ("Trust:SigningKeys:0:Secret …").</summary>
    internal string SettingsPath { get; set; } = "";
}
