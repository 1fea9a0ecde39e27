using Microsoft.AspNetCore.Authentication;

namespace Gateway.Trust;

/// <summary>Options of the <see cref="GatewayIdentityHandler"/>.</summary>
public sealed class GatewayIdentityOptions : AuthenticationSchemeOptions
{
    /// <summary>The secret shared with the gateway (at least 32 bytes). Required.</summary>
    public string SharedSecret { get; set; } = "";

    /// <summary>How far the signed timestamp may differ from this server's clock. <value>The default is 30 seconds.</value></summary>
    public TimeSpan AllowedClockSkew { get; set; } = TimeSpan.FromSeconds(30);
}
