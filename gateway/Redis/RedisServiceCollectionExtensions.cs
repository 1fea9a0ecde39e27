namespace Gateway.Redis;

internal static class RedisServiceCollectionExtensions
{
    /// <summary>The one Redis connection (behind its own breaker) every stage shares. Section <c>Redis</c>.</summary>
    public static IServiceCollection AddGatewayRedis(this IServiceCollection services, IConfiguration config)
    {
        services.AddOptions<RedisOptions>().Bind(config.GetSection("Redis")).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IRedisClient, RedisClient>();
        return services;
    }
}
