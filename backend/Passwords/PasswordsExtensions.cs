namespace Backend.Passwords;

internal static class PasswordsExtensions
{
    public static IServiceCollection AddPasswords(this IServiceCollection services, IConfiguration config)
    {
        services.AddOptions<PasswordOptions>().Bind(config.GetSection("Passwords")).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<PasswordHasher>();
        services.AddHostedService<PasswordHasherWarmup>();
        return services;
    }
}
