namespace Backend.Users;

internal static class UsersExtensions
{
    public static IServiceCollection AddUsers(this IServiceCollection services, IConfiguration config)
    {
        services.AddOptions<LoginThrottleOptions>().Bind(config.GetSection("LoginThrottle")).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<LoginThrottle>();
        services.AddSingleton<UserStore>();
        return services;
    }
}
