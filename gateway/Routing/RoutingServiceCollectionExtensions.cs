using Gateway.Observability;
using Gateway.Routing.Diff;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Routing;

internal static class RoutingServiceCollectionExtensions
{
    /// <summary>
    /// Loads and validates the route-class file now, before anything else exists, so an invalid file never half-loads
    /// (throws <see cref="RouteClassConfigException"/> listing every error), then registers the YARP config built from it,
    /// the <see cref="IRouteTable"/> that hot reload swaps, the file watcher and the config status. Section <c>RouteClasses</c>.
    /// </summary>
    /// <returns>The snapshot loaded at start (its clusters need signing keys before the proxy config loads).</returns>
    public static RouteClassSnapshot AddGatewayRouting(this IServiceCollection services, IConfiguration config, Uri backendBase)
    {
        // Validated here, not only at start: the file is read while the builder is built.
        var options = new RouteClassOptions();
        config.GetSection(RouteClassOptions.SectionName).Bind(options);
        var result = new DataAnnotationValidateOptions<RouteClassOptions>(null).Validate(null, options);
        if (result.Failed) throw new OptionsValidationException(RouteClassOptions.SectionName, typeof(RouteClassOptions), result.Failures);
        services.AddOptions<RouteClassOptions>().Bind(config.GetSection(RouteClassOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();

        string routeFile = RouteClassOptions.Resolve(options.Path);
        string[] settingsIdentityHeaders = Identity.IdentityHeaderOptions.FromConfiguration(config);
        var errors = RouteClassFileParser.ParseFile(routeFile, out var snapshot, settingsIdentityHeaders);
        if (snapshot is null) throw new RouteClassConfigException(routeFile, errors);

        string? backendH2c = Proxy.BackendAddress.H2cFromConfiguration(config);
        var proxyConfig = new InMemoryConfigProvider(ProxyConfigBuilder.Routes(snapshot), ProxyConfigBuilder.Clusters(snapshot, backendBase.AbsoluteUri, backendH2c));
        services.AddSingleton(proxyConfig);
        services.AddSingleton<IProxyConfigProvider>(proxyConfig);
        var applied = new ProxyConfigApplyWatch();
        services.AddSingleton<IConfigChangeListener>(applied);
        services.AddSingleton(sp => new RouteTable(snapshot, proxyConfig, applied, sp.GetRequiredService<IConfigValidator>(), backendBase.AbsoluteUri, backendH2c,
            settingsIdentityHeaders, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<RouteTable>>()));
        services.AddSingleton<IRouteTable>(sp => sp.GetRequiredService<RouteTable>());
        // The reload audit before the watcher: hosted services start in order, so it sees every reload (docs/gateway.md).
        services.AddSingleton<ConfigChangeAudit>();
        services.AddHostedService(sp => sp.GetRequiredService<ConfigChangeAudit>());
        services.AddHostedService<RouteClassFileWatcher>();
        services.AddSingleton<IConfigStatusSource, RouteTableConfigStatusSource>();
        return snapshot;
    }
}
