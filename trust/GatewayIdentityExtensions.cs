using Microsoft.AspNetCore.Authentication;

namespace Gateway.Trust;

public static class GatewayIdentityExtensions
{
    /// <summary>Adds the scheme that trusts requests signed by the gateway. See README "Trust between gateway and backend".</summary>
    public static AuthenticationBuilder AddGatewayIdentity(this AuthenticationBuilder builder, Action<GatewayIdentityOptions> configure) =>
        builder.AddScheme<GatewayIdentityOptions, GatewayIdentityHandler>(GatewayIdentityHandler.SchemeName, configure);
}
