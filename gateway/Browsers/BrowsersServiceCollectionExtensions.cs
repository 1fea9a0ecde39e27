using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Browsers;

internal static class BrowsersServiceCollectionExtensions
{
    /// <summary>
    /// What browsers need at the edge: the session cookie set on login routes and cleared on logout routes
    /// (<c>Sessions:Cookie</c>), the CSRF origin check of cookie-authenticated requests (<c>Sessions:Csrf</c>) and the
    /// per-class CORS answers (<see cref="CorsMiddleware"/>; policies in the route-class file). docs/gateway.md, "Browsers".
    /// </summary>
    public static IServiceCollection AddGatewayBrowsers(this IServiceCollection services, IConfiguration config)
    {
        services.AddOptions<SessionCookieOptions>().Bind(config.GetSection(SessionCookieOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SessionCookieOptions>, SessionCookieOptionsValidator>();
        services.AddOptions<CsrfOptions>().Bind(config.GetSection(CsrfOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<CsrfOptions>, CsrfOptionsValidator>();
        services.AddSingleton<SessionCookie>();
        services.AddSingleton<CsrfOriginCheck>();
        services.AddSingleton<LoginCookie>();
        // What YARP's AddTransforms<T>() registers; YARP itself is added once, by AddGatewayProxy.
        services.AddSingleton<ITransformProvider, SessionCookieTransformProvider>();
        return services;
    }
}
