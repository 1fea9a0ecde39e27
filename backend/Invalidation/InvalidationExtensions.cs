namespace Backend.Invalidation;

internal static class InvalidationExtensions
{
    public static IServiceCollection AddInvalidationOutbox(this IServiceCollection services, IConfiguration config)
    {
        services.AddOptions<OutboxOptions>().Bind(config.GetSection("Invalidation")).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<InvalidationOutbox>();
        services.AddSingleton<OutboxRelay>();
        services.AddHostedService(sp => sp.GetRequiredService<OutboxRelay>());
        return services;
    }
}
