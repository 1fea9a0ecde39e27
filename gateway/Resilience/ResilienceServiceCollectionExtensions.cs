using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gateway.Resilience;

/// <summary>Registration of the backend resilience pipelines and tier load shedding.</summary>
internal static class ResilienceServiceCollectionExtensions
{
    /// <summary>
    /// Registers the per-cluster breakers and retry budgets (<see cref="IBreakerStates"/> exposes their state, also to
    /// the breaker gauge and <c>/gateway/status</c>) and the
    /// tier load-shedding options. Binds <c>Resilience</c> and <c>LoadShedding</c> sections when a configuration is given.
    /// Wrap YARP's handler with <see cref="ResilienceHandler"/> (as <c>GatewayForwarderHttpClientFactory</c> does) in an <c>IForwarderHttpClientFactory</c>.
    /// </summary>
    public static IServiceCollection AddGatewayResilience(this IServiceCollection services, IConfiguration? configuration = null,
        Action<BackendResilienceOptions>? configureBackend = null, Action<TierLoadSheddingOptions>? configureShedding = null)
    {
        var backend = services.AddOptions<BackendResilienceOptions>();
        var shedding = services.AddOptions<TierLoadSheddingOptions>();
        if (configuration is not null)
        {
            backend.Bind(configuration.GetSection("Resilience"));
            shedding.Bind(configuration.GetSection("LoadShedding"));
        }
        if (configureBackend is not null) backend.Configure(configureBackend);
        if (configureShedding is not null) shedding.Configure(configureShedding);
        backend.ValidateDataAnnotations().ValidateOnStart();
        // "critical_auth" is the same tier: an environment variable cannot carry '-' from bash (export refuses the name).
        shedding.PostConfigure(o =>
        {
            foreach (var key in o.MaxConcurrency.Keys.Where(k => k.Contains('_')).ToList())
            {
                o.MaxConcurrency[key.Replace('_', '-')] = o.MaxConcurrency[key];
                o.MaxConcurrency.Remove(key);
            }
        });
        shedding.ValidateDataAnnotations()
            .Validate(o => o.MaxConcurrency.Values.All(v => v >= 0), "LoadShedding:MaxConcurrency values must be 0 (never shed) or a positive limit.")
            // A misspelt tier was ignored, and the tier kept its default limit without a word.
            .Validate(o => o.MaxConcurrency.Keys.All(k => Array.Exists(Routing.RouteClassFileParser.Tiers, t => string.Equals(t, k, StringComparison.OrdinalIgnoreCase))),
                $"LoadShedding:MaxConcurrency names a tier that does not exist. Use {string.Join(", ", Routing.RouteClassFileParser.Tiers)} (or with '_' for '-').")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<BackendResilience>();
        services.AddSingleton<TierLoadShedder>();
        services.AddSingleton<IBreakerStates>(sp => sp.GetRequiredService<BackendResilience>());
        services.AddSingleton<Observability.IBreakerStateSource, ResilienceBreakerStateSource>();   // gauge and /gateway/status
        return services;
    }

    /// <summary>
    /// Per-tier concurrency limits and the class's deadline (<see cref="AdmissionMiddleware"/>). Place after classification
    /// and before sessions and rate limiting; health goes before it.
    /// </summary>
    public static IApplicationBuilder UseRequestAdmission(this IApplicationBuilder app) => app.UseMiddleware<AdmissionMiddleware>();
}
