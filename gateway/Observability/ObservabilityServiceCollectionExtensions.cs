using Gateway.Observability.Fleet;
using Gateway.Observability.Prometheus;
using Gateway.Redis;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Gateway.Observability;

/// <summary>Entry points for Program.cs.</summary>
internal static class ObservabilityServiceCollectionExtensions
{
    /// <summary>
    /// Registers metrics (<see cref="GatewayMetrics"/>), the Prometheus exporter, <see cref="RollingStats"/>,
    /// <see cref="AdminAccess"/> and the built-in status contributors. Redis status and the Redis breaker are added
    /// when an <see cref="IRedisClient"/> is registered; config and backend sections when
    /// <see cref="IConfigStatusSource"/> / <see cref="IBackendHealthSource"/> are. Register those sources before or after
    /// this call: they are resolved lazily. Also the route-class catalog of the operator views (from the route table when
    /// there is one) and the fleet publisher and reader.
    /// </summary>
    public static IServiceCollection AddGatewayObservability(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<ObservabilityOptions>().Bind(configuration.GetSection(ObservabilityOptions.SectionName))
            .ValidateDataAnnotations().Validate(o => AllPositive(o.TierBudgetsMs), "Observability:TierBudgetsMs values must be positive milliseconds.")
            .ValidateOnStart();
        services.AddOptions<AdminAccessOptions>().Bind(configuration.GetSection(AdminAccessOptions.SectionName))
            .Validate(o => o.Key is null || o.Key.Length >= 16, "Admin:Key must be at least 16 characters (or unset to allow loopback only).")
            .ValidateOnStart();
        services.TryAddSingleton<AdminAccess>();
        services.TryAddSingleton<AdminAccessFilter>();
        services.TryAddSingleton<RollingStats>();
        services.TryAddSingleton(sp => new GatewayMetrics(sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
            new LazyServices<IBreakerStateSource>(sp), () => sp.GetService<IConfigStatusSource>()));
        services.TryAddSingleton(sp =>
        {
            var configured = sp.GetRequiredService<IOptions<ObservabilityOptions>>().Value.Meters;
            var options = new PrometheusExporterOptions { Meters = configured is { Count: > 0 } ? configured : [.. ObservabilityOptions.DefaultMeters] };
            return new PrometheusExporter(options, sp.GetService<System.Diagnostics.Metrics.IMeterFactory>());
        });

        services.AddSingleton<IBreakerStateSource>(sp => sp.GetService<IRedisClient>() is { } redis
            ? new RedisBreakerStateSource(redis) : EmptyBreakerStateSource.Instance);
        services.AddSingleton<IStatusContributor>(sp => new LazyStatusContributor("config",
            () => sp.GetService<IConfigStatusSource>() is { } s ? new ConfigStatusContributor(s) : null));
        services.AddSingleton<IStatusContributor>(sp => new LazyStatusContributor("backend",
            () => sp.GetService<IBackendHealthSource>() is { } s ? new BackendStatusContributor(s) : null));
        services.AddSingleton<IStatusContributor>(sp => new LazyStatusContributor("redis",
            () => sp.GetService<IRedisClient>() is { } r ? new RedisStatusContributor(r) : null));
        services.AddSingleton<IStatusContributor>(sp => new BreakerStatusContributor(sp.GetServices<IBreakerStateSource>()));
        services.AddSingleton<IStatusContributor, RuntimeStatusContributor>();
        services.TryAddSingleton<IRouteClassCatalog>(sp => sp.GetService<Gateway.Routing.IRouteTable>() is { } table
            ? new Gateway.Routing.RouteTableClassCatalog(table) : EmptyRouteClassCatalog.Instance);
        services.AddGatewayFleet(configuration);
        return services;
    }

    /// <summary>
    /// The fleet view: <see cref="FleetPublisher"/> writes this instance's summary to Redis every interval (when an
    /// <see cref="IRedisClient"/> is registered and <c>Observability:Fleet:Enabled</c>); <see cref="FleetReader"/> reads all.
    /// </summary>
    private static void AddGatewayFleet(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<FleetOptions>().Bind(configuration.GetSection(FleetOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(sp => new FleetIdentity(sp.GetRequiredService<IOptions<FleetOptions>>(), sp.GetService<AdminListener>()));
        services.TryAddSingleton(sp => new FleetReader(sp.GetRequiredService<RollingStats>(), sp.GetService<IRedisClient>(),
            sp.GetRequiredService<FleetIdentity>(), sp.GetRequiredService<IOptions<FleetOptions>>(), sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(sp => new FleetPublisher(sp.GetRequiredService<RollingStats>(), sp.GetService<IRedisClient>(),
            sp.GetRequiredService<FleetIdentity>(), sp.GetRequiredService<IOptions<FleetOptions>>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<FleetPublisher>>()));
        services.AddHostedService(sp => sp.GetRequiredService<FleetPublisher>());
    }

    /// <summary>
    /// Adds <see cref="RequestTelemetryMiddleware"/>. Place it first among the gateway's middleware (right after
    /// header hygiene) so its duration covers every stage.
    /// </summary>
    public static IApplicationBuilder UseGatewayRequestTelemetry(this IApplicationBuilder app)
    {
        // Resolve the exporter now so it listens before the first request is recorded.
        app.ApplicationServices.GetRequiredService<PrometheusExporter>();
        return app.UseMiddleware<RequestTelemetryMiddleware>();
    }

    private static bool AllPositive(Dictionary<string, double> budgets)
    {
        foreach (var v in budgets.Values) if (!(v > 0)) return false;
        return true;
    }

    /// <summary>Resolves a service list on enumeration, breaking construction-time dependency cycles.</summary>
    private sealed class LazyServices<T>(IServiceProvider services) : IEnumerable<T>
    {
        public IEnumerator<T> GetEnumerator() => services.GetServices<T>().GetEnumerator();
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    private sealed class EmptyRouteClassCatalog : IRouteClassCatalog
    {
        public static readonly EmptyRouteClassCatalog Instance = new();
        public IReadOnlyList<RouteClassBudget> GetRouteClasses() => [];
    }

    private sealed class EmptyBreakerStateSource : IBreakerStateSource
    {
        public static readonly EmptyBreakerStateSource Instance = new();
        public IReadOnlyList<BreakerStateInfo> GetBreakerStates() => [];
    }
}
