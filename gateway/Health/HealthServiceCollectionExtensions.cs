using Gateway.Observability;

namespace Gateway.Health;

internal static class HealthServiceCollectionExtensions
{
    /// <summary>
    /// The background readiness probe behind <c>/ready</c> (Redis and the backend's <c>GET /health</c>) and the backend
    /// section of <c>/gateway/status</c>. Section <c>Health</c>.
    /// </summary>
    public static IServiceCollection AddGatewayHealth(this IServiceCollection services, IConfiguration config, Uri backendBase)
    {
        services.AddOptions<HealthOptions>().Bind(config.GetSection(HealthOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddHttpClient(ReadinessProbe.HttpClientName, c => c.BaseAddress = backendBase);
        services.AddSingleton<ReadinessProbe>();
        services.AddHostedService(sp => sp.GetRequiredService<ReadinessProbe>());
        services.AddSingleton<IBackendHealthSource, ReadinessBackendHealthSource>();
        return services;
    }
}
