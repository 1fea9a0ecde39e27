using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Gateway.Trust;

public static class GatewayIdentityExtensions
{
    /// <summary>
    /// Adds the scheme that trusts requests signed by the gateway, its keys bound from <paramref name="section"/>
    /// (<c>SigningKeys</c>, <c>AllowedClockSkew</c>) and validated at start-up. See trust/README.md.
    /// </summary>
    public static AuthenticationBuilder AddGatewayIdentity(this AuthenticationBuilder builder, IConfigurationSection section) =>
        builder.AddGatewayIdentity(o =>
        {
            section.Bind(o);
            o.SettingsPath = section.Path;
        });

    /// <summary>Adds the scheme that trusts requests signed by the gateway, configured in code; validated at start-up.</summary>
    public static AuthenticationBuilder AddGatewayIdentity(this AuthenticationBuilder builder, Action<GatewayIdentityOptions> configure)
    {
        builder.Services.TryAddSingleton<GatewayRequestVerifier>();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GatewayIdentityOptions>, GatewayIdentityOptionsValidator>());
        builder.Services.AddOptions<GatewayIdentityOptions>(GatewayIdentityHandler.SchemeName).ValidateOnStart();
        return builder.AddScheme<GatewayIdentityOptions, GatewayIdentityHandler>(GatewayIdentityHandler.SchemeName, configure);
    }

    /// <summary>
    /// Makes the client address the gateway signed (<c>X-Gateway-Client-Ip</c>) the request's
    /// <c>Connection.RemoteIpAddress</c>, so per-IP throttles, audit logs and access rules see the real client and not
    /// the gateway, whatever <c>X-Forwarded-For</c> says. Requests with gateway headers but no valid signature are
    /// answered 401 here; unsigned requests (direct callers) keep their peer address. Place it after
    /// <c>UseStatusCodePages</c> (for the 401 body) and before anything that reads the client address.
    /// </summary>
    public static IApplicationBuilder UseGatewayClientIp(this IApplicationBuilder app)
    {
        var verifier = app.ApplicationServices.GetRequiredService<GatewayRequestVerifier>();
        return app.Use((context, next) =>
        {
            var verification = verifier.Verify(context);
            switch (verification.Status)
            {
                case GatewayVerificationStatus.Valid:
                    context.Connection.RemoteIpAddress = verification.ClientIp;
                    return next(context);
                case GatewayVerificationStatus.Invalid:
                    context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                    context.Response.Headers.CacheControl = "no-store";
                    return Task.CompletedTask;
                default:
                    return next(context);
            }
        });
    }
}
