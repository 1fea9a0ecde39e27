namespace Gateway.Sessions;

internal static class SessionsServiceCollectionExtensions
{
    /// <summary>
    /// Session validation: the L1 cache, introspection by the backend (its own connection pool), the unknown-token
    /// budget, activity flushing and the invalidation subscriber that evicts revoked sessions. Sections <c>Sessions</c>
    /// and <c>Sessions:InvalidTokenBudget</c>.
    /// </summary>
    public static IServiceCollection AddGatewaySessions(this IServiceCollection services, IConfiguration config, Uri backendBase)
    {
        services.AddOptions<SessionOptions>().Bind(config.GetSection("Sessions")).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<InvalidTokenBudgetOptions>().Bind(config.GetSection(InvalidTokenBudgetOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<L1SessionCache>();
        services.AddHttpClient(IntrospectionClient.HttpClientName, c => c.BaseAddress = backendBase)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                UseProxy = false, UseCookies = false, AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            });
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<IntrospectionClient>(sp,
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(IntrospectionClient.HttpClientName)));
        services.AddSingleton<InvalidTokenBudget>();   // its ClientIpResolver is registered with rate limiting
        services.AddSingleton<SessionValidator>();
        services.AddSingleton<SessionActivityTracker>();
        services.AddHostedService(sp => sp.GetRequiredService<SessionActivityTracker>());
        services.AddSingleton<InvalidationSubscriber>();
        services.AddSingleton<IInvalidationBus>(sp => sp.GetRequiredService<InvalidationSubscriber>());
        services.AddHostedService(sp => sp.GetRequiredService<InvalidationSubscriber>());
        return services;
    }
}
