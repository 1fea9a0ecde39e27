namespace Backend.Redis;

internal static class RedisExtensions
{
    public static IServiceCollection AddRedisSessionCache(this IServiceCollection services, IConfiguration config)
    {
        services.AddOptions<RedisOptions>().Bind(config.GetSection("Redis")).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ISessionCache, RedisSessionCache>();
        return services;
    }
}
