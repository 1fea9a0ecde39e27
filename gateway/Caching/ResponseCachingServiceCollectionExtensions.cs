using Gateway.Redis;
using Microsoft.AspNetCore.OutputCaching;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Gateway.Caching;

/// <summary>Registration of the per-principal response cache.</summary>
internal static class ResponseCachingServiceCollectionExtensions
{
    /// <summary>
    /// Registers ASP.NET Core output caching with <see cref="PrincipalOutputCachePolicy"/> as its only policy, the
    /// L1+Redis <see cref="IOutputCacheStore"/> (L1-only when no <c>IRedisClient</c> is registered), the default policy
    /// resolver over <see cref="ResponseCachingOptions.Policies"/> and <see cref="ResponseCacheInvalidator"/>.
    /// Binds section <c>ResponseCaching</c> when a configuration is given.
    /// </summary>
    public static IServiceCollection AddGatewayResponseCaching(this IServiceCollection services, IConfiguration? configuration = null,
        Action<ResponseCachingOptions>? configure = null)
    {
        var options = services.AddOptions<ResponseCachingOptions>();
        if (configuration is not null) options.Bind(configuration.GetSection("ResponseCaching"));
        if (configure is not null) options.Configure(configure);
        options.ValidateDataAnnotations()
            .Validate(o => o.Policies.Values.All(p => p.TtlSeconds is >= 1 and <= 86_400), "ResponseCaching:Policies:*:TtlSeconds must be between 1 and 86400.")
            .ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IResponseCachePolicyResolver, FeatureResponseCachePolicyResolver>();
        services.AddOutputCache();
        services.AddOptions<OutputCacheOptions>().Configure<IOptions<ResponseCachingOptions>>((o, rc) =>
        {
            o.AddBasePolicy(PrincipalOutputCachePolicy.Instance);
            o.MaximumBodySize = rc.Value.MaximumBodySize;
        });
        services.AddSingleton(sp => new TieredOutputCacheStore(
            sp.GetRequiredService<IOptions<ResponseCachingOptions>>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<TieredOutputCacheStore>>(), sp.GetService<IRedisClient>(),
            sp.GetService<Gateway.Observability.GatewayMetrics>()));
        services.Replace(ServiceDescriptor.Singleton<IOutputCacheStore>(sp => sp.GetRequiredService<TieredOutputCacheStore>()));
        services.AddSingleton<ResponseCacheInvalidator>();
        return services;
    }

    /// <summary>
    /// The gateway's cache policies: those of the live route-class file instead of
    /// <see cref="ResponseCachingOptions.Policies"/>, and eviction of a principal's responses when the backend
    /// announces an invalidation.
    /// </summary>
    internal static IServiceCollection AddRouteClassResponseCaching(this IServiceCollection services)
    {
        services.Replace(ServiceDescriptor.Singleton<IResponseCachePolicyResolver, RouteTableCachePolicyResolver>());
        services.AddHostedService<InvalidationCacheEvictor>();
        return services;
    }

    /// <summary>
    /// The response cache: X-Cache/Cache-Control headers, then ASP.NET Core's output cache. Place after session
    /// validation and rate limiting, immediately before the proxy. Only requests the headers stage marked cacheable
    /// (a <see cref="ResponseCacheState"/> is set) enter the output cache: for every other request its policy would only
    /// disable caching, after allocating a context, a policy list and a tag set (about 5 % of a proxied request's
    /// allocations; docs/performance.md).
    /// </summary>
    public static IApplicationBuilder UseGatewayResponseCaching(this IApplicationBuilder app)
    {
        app.UseMiddleware<ResponseCacheHeadersMiddleware>();
        return app.UseWhen(static context => context.Features.Get<ResponseCacheState>() is not null, static branch => branch.UseOutputCache());
    }
}
