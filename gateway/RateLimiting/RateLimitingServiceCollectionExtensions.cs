using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gateway.RateLimiting;

/// <summary>Registration of the distributed rate limiter.</summary>
internal static class RateLimitingServiceCollectionExtensions
{
    /// <summary>
    /// Registers the Redis-backed limiter (needs an <c>IRedisClient</c>), the client IP resolver and the default rule
    /// resolver over <see cref="RateLimitingOptions.Policies"/>. Binds section <c>RateLimiting</c> when a configuration is
    /// given. Register your own <see cref="IRateLimitRuleResolver"/> before this call to replace the default.
    /// </summary>
    public static IServiceCollection AddGatewayRateLimiting(this IServiceCollection services, IConfiguration? configuration = null,
        Action<RateLimitingOptions>? configure = null)
    {
        var options = services.AddOptions<RateLimitingOptions>();
        if (configuration is not null) options.Bind(configuration.GetSection("RateLimiting"));
        if (configure is not null) options.Configure(configure);
        options.ValidateDataAnnotations().Validate(Validate, "RateLimiting options are invalid: each policy needs limit >= 1, windowSeconds >= 1, algorithm 'sliding-window'|'token-bucket', partition 'ip'|'user'|'ip+account'; TrustedProxies must be IP addresses or CIDR ranges.").ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IRateLimitRuleResolver, FeatureRateLimitRuleResolver>();
        services.TryAddSingleton<TrustedProxies>();
        services.AddSingleton<ClientIpResolver>();
        services.AddSingleton<RedisRateLimiter>();
        // Login device tokens are keyed by Trust:InternalSecret, which the backend also holds (validated at start-up).
        services.TryAddSingleton(sp => new Gateway.Trust.LoginDeviceTokens(
            sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<Identity.GatewayTrustOptions>>().Value.InternalSecret));
        return services;
    }

    /// <summary>
    /// The gateway's rule resolver: the policies of the live route-class file (hot reload included) instead of
    /// <see cref="RateLimitingOptions.Policies"/>.
    /// </summary>
    internal static IServiceCollection AddRouteClassRateLimits(this IServiceCollection services) =>
        services.Replace(ServiceDescriptor.Singleton<IRateLimitRuleResolver, RouteTableRateLimitRuleResolver>());

    /// <summary>Applies rate limits. Place after session validation and load shedding, before the output cache.</summary>
    public static IApplicationBuilder UseGatewayRateLimiting(this IApplicationBuilder app) => app.UseMiddleware<GatewayRateLimitingMiddleware>();

    private static bool Validate(RateLimitingOptions o)
    {
        foreach (var (name, p) in o.Policies)
        {
            if (p.Limit < 1 || p.WindowSeconds < 1 || p.Burst is < 1) return false;
            try { RateLimitRule.FromConfig(name, p.Algorithm, p.Limit, p.WindowSeconds, p.Burst, p.Partition); }
            catch (ArgumentException) { return false; }
        }
        foreach (var proxy in o.TrustedProxies)
            if (!(proxy.Contains('/') ? System.Net.IPNetwork.TryParse(proxy, out _) : System.Net.IPAddress.TryParse(proxy, out _))) return false;
        return true;
    }
}
