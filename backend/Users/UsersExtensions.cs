namespace Backend.Users;

internal static class UsersExtensions
{
    public static IServiceCollection AddUsers(this IServiceCollection services, IConfiguration config)
    {
        services.AddOptions<LoginThrottleOptions>().Bind(config.GetSection("LoginThrottle")).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<LoginThrottle>();
        // Keyed by the secret the gateway also holds, so both count a device's attempts by the same proof.
        services.AddSingleton(sp => new Gateway.Trust.LoginDeviceTokens(
            sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<Backend.Infrastructure.TrustOptions>>().Value.InternalSecret));
        services.AddSingleton<UserStore>();
        return services;
    }
}
