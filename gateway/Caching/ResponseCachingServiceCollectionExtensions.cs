using Gateway.Pipeline;
using Gateway.Redis;
using Microsoft.AspNetCore.OutputCaching;
using Microsoft.AspNetCore.OutputCaching.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Gateway.Caching;

/// <summary>Registration of the per-principal response cache.</summary>
internal static class ResponseCachingServiceCollectionExtensions
{
    /// <summary>
    /// Registers ASP.NET Core output caching with <see cref="PrincipalOutputCachePolicy"/> as its only policy, the
    /// L1 + Redis <see cref="IOutputCacheStore"/> (the Redis tier is the <c>Microsoft.AspNetCore.OutputCaching.StackExchangeRedis</c> store; L1-only when no <c>IRedisClient</c> is registered), the default policy
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
            // Paths are case-sensitive (RFC 3986 §6.2.2.1) and the backend receives them as sent: /files/A and /files/a
            // may be two resources, which the framework's default (upper-cased paths in the key) would serve as one.
            o.UseCaseSensitivePaths = true;
        });
        AddRedisTier(services);
        services.AddSingleton(sp =>
        {
            var redis = sp.GetService<IRedisClient>();
            return new TieredOutputCacheStore(
                sp.GetRequiredService<IOptions<ResponseCachingOptions>>(), sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<TieredOutputCacheStore>>(),
                l2: redis is null ? null : sp.GetRequiredKeyedService<IOutputCacheStore>(RedisTierKey), breaker: redis,
                l2Timeout: sp.GetService<IOptions<RedisOptions>>()?.Value.OperationTimeout,
                metrics: sp.GetService<Gateway.Observability.GatewayMetrics>());
        });
        services.Replace(ServiceDescriptor.Singleton<IOutputCacheStore>(sp => sp.GetRequiredService<TieredOutputCacheStore>()));
        services.AddSingleton<ResponseCacheInvalidator>();
        return services;
    }

    /// <summary>Key of the package's Redis store, which only <see cref="TieredOutputCacheStore"/> uses.</summary>
    internal const string RedisTierKey = "gateway-output-cache-redis";

    /// <summary>Prefix of the package's keys (<c>__MSOCV_{key}</c> entries, <c>__MSOCT_{tag}</c> tag sets, <c>__MSOCT</c> tag index).</summary>
    internal const string RedisInstanceName = "gw:v1:oc:";

    /// <summary>
    /// Registers the package's Redis <see cref="IOutputCacheStore"/> (an internal type) under <see cref="RedisTierKey"/>
    /// instead of as the store, and hands it the gateway's multiplexer: one connection pair per process, and the
    /// package never connects on its own. The package disposes the multiplexer with itself, which happens only when
    /// the container is disposed at shutdown, when the <see cref="IRedisClient"/> that owns it is disposed too.
    /// </summary>
    private static void AddRedisTier(IServiceCollection services)
    {
        services.AddStackExchangeRedisOutputCache(static o => o.InstanceName = RedisInstanceName);
        for (int i = services.Count - 1; i >= 0; i--)
        {
            var d = services[i];
            if (d.ServiceType != typeof(IOutputCacheStore) || d.IsKeyedService || d.ImplementationType is null) continue;
            services.RemoveAt(i);
            services.Add(new ServiceDescriptor(typeof(IOutputCacheStore), RedisTierKey, d.ImplementationType, ServiceLifetime.Singleton));
            break;
        }
        services.AddOptions<RedisOutputCacheOptions>().Configure<IServiceProvider>(static (o, sp) =>
        {
            if (sp.GetService<IRedisClient>() is { } redis) o.ConnectionMultiplexerFactory = redis.GetMultiplexerAsync;
        });
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
        return app.UseWhen(static context => GatewayRequestFeature.Of(context)?.CacheState is not null, static branch => branch.UseOutputCache());
    }
}
