using Gateway.Trust;
using Backend.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Backend.Sessions;

internal static class SessionsExtensions
{
    public const string SelectorScheme = "GatewayOrBearer";

    public static IServiceCollection AddSessions(this IServiceCollection services, IConfiguration config)
    {
        services.AddOptions<SessionOptions>().Bind(config.GetSection("Sessions")).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<SessionStore>();
        services.AddSingleton<LastSeenBatcher>();
        services.AddSingleton<LastSeenFlusher>();
        services.AddHostedService(sp => sp.GetRequiredService<LastSeenFlusher>());

        services.AddAuthentication(SelectorScheme)
            .AddPolicyScheme(SelectorScheme, "Gateway identity headers, else Bearer token", o =>
                // Any identity header means the gateway path: a bad signature is then a 401, never a fall-through.
                o.ForwardDefaultSelector = ctx => HasIdentityHeaders(ctx.Request.Headers)
                    ? GatewayIdentityHandler.SchemeName : BearerSessionHandler.SchemeName)
            .AddGatewayIdentity(config.GetSection("Trust"))
            .AddScheme<AuthenticationSchemeOptions, BearerSessionHandler>(BearerSessionHandler.SchemeName, null);
        services.AddOptions<TrustOptions>().Bind(config.GetSection("Trust")).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<TrustOptions>, TrustOptionsValidator>();
        services.AddAuthorization();
        return services;
    }

    private static bool HasIdentityHeaders(IHeaderDictionary h) =>
        h.ContainsKey(IdentityHeaders.UserId) || h.ContainsKey(IdentityHeaders.SessionId) || h.ContainsKey(IdentityHeaders.OrgId)
        || h.ContainsKey(IdentityHeaders.OrgRole) || h.ContainsKey(IdentityHeaders.Signature) || h.ContainsKey(IdentityHeaders.Timestamp)
        || h.ContainsKey(IdentityHeaders.KeyId) || h.ContainsKey(IdentityHeaders.ClientIp);

    /// <summary>Buffers "seen now" for every authenticated request the backend serves itself.</summary>
    public static IApplicationBuilder UseLastSeenTracking(this IApplicationBuilder app) => app.Use((ctx, next) =>
    {
        if (ctx.User.Identity?.IsAuthenticated == true)
        {
            var sid = ctx.User.SessionId();
            if (sid != Guid.Empty)
                ctx.RequestServices.GetRequiredService<LastSeenBatcher>().Record(sid, ctx.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime);
        }
        return next(ctx);
    });
}
