using Gateway.Health;
using Gateway.Identity;
using Gateway.Limits;
using Gateway.Proxy;
using Gateway.Redis;
using Gateway.Routing;
using Gateway.Sessions;
using Gateway.Caching;
using Gateway.Observability;
using Gateway.Pipeline;
using Gateway.Observability.Telemetry;
using Gateway.RateLimiting;
using Gateway.Resilience;
using Gateway.Tls;
using Gateway.Trust;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway;

/// <summary>
/// Builds and wires the gateway. Program.cs and the tests use the same two calls, so tests run the real gateway on a
/// real Kestrel port with their own settings (<c>--Backend:BaseUrl=...</c>, <c>--RouteClasses:Path=...</c>, <c>--urls=...</c>).
/// </summary>
public static class GatewayApp
{
    /// <summary>
    /// Creates the builder: shared appsettings as the base layer, options, route classes (validated: throws
    /// <see cref="RouteClassConfigException"/> when invalid), Redis, sessions and YARP.
    /// </summary>
    public static WebApplicationBuilder CreateBuilder(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        // Repo-root appsettings.json (copied as appsettings.shared.json) is the lowest layer: every other source overrides it.
        var shared = new Microsoft.Extensions.Configuration.Json.JsonConfigurationSource
        {
            Path = Path.Combine(AppContext.BaseDirectory, "appsettings.shared.json"),
            Optional = true,
        };
        shared.ResolveFileProvider();
        // The gateway's own layer just above it: Kestrel limits (docs/hardening.md) that must not reach the backend,
        // which reads the shared file too.
        var own = new Microsoft.Extensions.Configuration.Json.JsonConfigurationSource
        {
            Path = Path.Combine(AppContext.BaseDirectory, "appsettings.gateway.json"),
            Optional = true,
        };
        own.ResolveFileProvider();
        builder.Configuration.Sources.Insert(0, own);
        builder.Configuration.Sources.Insert(0, shared);
        // Below even that: log levels that keep Information free of per-request lines (hosting, YARP and
        // HttpClientFactory all log every request at Information). Any configuration layer can override them.
        builder.Configuration.Sources.Insert(0, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?>
            {
                ["Logging:LogLevel:Default"] = "Information",
                ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
                ["Logging:LogLevel:Yarp"] = "Warning",
                ["Logging:LogLevel:System.Net.Http.HttpClient"] = "Warning",
            },
        });

        var config = builder.Configuration;
        // The public listener(s), then the operator listener on a port of its own (AdminListenerMiddleware keeps them apart).
        string publicUrls = config["urls"] is { Length: > 0 } urls ? urls : config["Gateway:Urls"] is { Length: > 0 } configured ? configured : "http://localhost:5000";
        string tlsUrl = config["Tls:CertificatePath"] is { Length: > 0 } ? config["Tls:Url"] ?? new Tls.TlsOptions().Url : "";
        var admin = AdminListener.FromConfiguration(config, AdminListener.Ports(publicUrls + ";" + tlsUrl));
        string httpUrls = admin.Url is null ? publicUrls : publicUrls + ";" + admin.Url;
        builder.WebHost.UseUrls(httpUrls);
        builder.Services.AddSingleton(admin);
        // Beyond loopback every operator request needs the key, loopback peers included: a local reverse proxy would
        // otherwise make every client a loopback client.
        if (admin.BeyondLoopback) builder.Services.PostConfigure<AdminAccessOptions>(o => o.AllowLoopback = false);
        builder.Logging.AddGatewayLogging(builder.Environment);
        builder.AddGatewayTls(httpUrls);
        builder.AddGatewayKestrelLimits();


        var services = builder.Services;
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<RedisOptions>().Bind(config.GetSection("Redis")).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<Gateway.Sessions.SessionOptions>().Bind(config.GetSection("Sessions")).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<InvalidTokenBudgetOptions>().Bind(config.GetSection(InvalidTokenBudgetOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<GatewayTrustOptions>().Bind(config.GetSection("Trust")).ValidateOnStart();
        services.AddSingleton<IValidateOptions<GatewayTrustOptions>, TrustOptionsValidator>();
        services.AddOptions<SigningOptions>().Bind(config.GetSection(SigningOptions.SectionName)).ValidateOnStart();
        services.AddOptions<RouteClassOptions>().Bind(config.GetSection("RouteClasses"));
        services.AddOptions<IdentityHeaderOptions>().Bind(config.GetSection("IdentityHeaders"));
        services.AddOptions<HealthOptions>().Bind(config.GetSection("Health"));
        services.AddOptions<ForwardingOptions>().Bind(config.GetSection("Forwarding"));

        string backend = config["Backend:BaseUrl"] ?? "";
        if (!Uri.TryCreate(backend, UriKind.Absolute, out var backendUri))
            throw new OptionsValidationException("Backend", typeof(string), [$"Backend:BaseUrl '{backend}' is not an absolute URL. Set it, e.g. http://127.0.0.1:8090."]);
        var backendBase = new Uri(backendUri.AbsoluteUri.TrimEnd('/') + "/");

        // Route classes are validated before anything else exists: an invalid file never half-loads.
        string routeFile = RouteClassOptions.Resolve(config["RouteClasses:Path"] ?? new RouteClassOptions().Path);
        var errors = RouteClassFileParser.ParseFile(routeFile, out var snapshot);
        if (snapshot is null) throw new RouteClassConfigException(routeFile, errors);
        services.AddSingleton<IValidateOptions<SigningOptions>>(sp => new SigningOptionsValidator(
            sp.GetRequiredService<IHostEnvironment>(), [.. snapshot.Clusters.Keys], sp.GetRequiredService<IConfiguration>()));

        var proxyConfig = new InMemoryConfigProvider(ProxyConfigBuilder.Routes(snapshot), ProxyConfigBuilder.Clusters(snapshot, backendBase.AbsoluteUri));
        services.AddSingleton(proxyConfig);
        services.AddSingleton<IProxyConfigProvider>(proxyConfig);
        services.AddSingleton(sp => new RouteTable(snapshot, proxyConfig, sp.GetRequiredService<IConfigValidator>(), backendBase.AbsoluteUri,
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<RouteTable>>()));
        services.AddSingleton<IRouteTable>(sp => sp.GetRequiredService<RouteTable>());
        services.AddHostedService<RouteClassFileWatcher>();

        services.AddSingleton<IRedisClient, RedisClient>();

        services.AddHttpClient(ReadinessProbe.HttpClientName, c => c.BaseAddress = backendBase);
        services.AddSingleton<ReadinessProbe>();
        services.AddHostedService(sp => sp.GetRequiredService<ReadinessProbe>());

        services.AddSingleton<ClusterSigners>();
        services.AddSingleton<L1SessionCache>();
        services.AddHttpClient(IntrospectionClient.HttpClientName, c => c.BaseAddress = backendBase)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                UseProxy = false, UseCookies = false, AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            });
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<IntrospectionClient>(sp,
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(IntrospectionClient.HttpClientName)));
        services.AddSingleton<InvalidTokenBudget>();   // its ClientIpResolver is registered with rate limiting below
        services.AddSingleton<SessionValidator>();
        services.AddSingleton<SessionActivityTracker>();
        services.AddHostedService(sp => sp.GetRequiredService<SessionActivityTracker>());
        services.AddSingleton<InvalidationSubscriber>();
        services.AddSingleton<IInvalidationBus>(sp => sp.GetRequiredService<InvalidationSubscriber>());
        services.AddHostedService(sp => sp.GetRequiredService<InvalidationSubscriber>());

        AddPoliciesAndObservability(services, config);

        services.AddRequestTimeouts();
        services.AddReverseProxy().AddTransforms<ForwardedHeadersTransformProvider>().AddTransforms<IdentityTransformProvider>();
        services.AddGatewayClusterHealth();
        services.AddSingleton<IForwarderHttpClientFactory, GatewayForwarderHttpClientFactory>();
        return builder;
    }

    /// <summary>
    /// The stages built on the core: response cache, rate limiting, resilience and load shedding, observability.
    /// Their policies come from the live route-class file (resolvers over <see cref="IRouteTable"/>).
    /// </summary>
    private static void AddPoliciesAndObservability(IServiceCollection services, IConfiguration config)
    {
        services.AddGatewayObservability(config);
        // Trace headers to the backend cost a little per request: on only when traces are exported.
        if (services.AddOtlpTracing(config, "gateway", [GatewayTracing.SourceName, "Yarp.ReverseProxy", "System.Net.Http", "Microsoft.AspNetCore"]))
            services.PostConfigure<ForwardingOptions>(o => o.PropagateActivityHeaders = true);
        services.AddSingleton<IConfigStatusSource, RouteTableConfigStatusSource>();
        services.AddSingleton<IBackendHealthSource, ReadinessBackendHealthSource>();
        services.AddSingleton<IBreakerStateSource, ResilienceBreakerStateSource>();

        services.AddSingleton<IRateLimitRuleResolver, RouteTableRateLimitRuleResolver>();
        services.AddGatewayRateLimiting(config);
        services.AddSingleton<IResponseCachePolicyResolver, RouteTableCachePolicyResolver>();
        services.AddGatewayResponseCaching(config);
        services.AddHostedService<InvalidationCacheEvictor>();
        services.AddGatewayResilience(config);
    }

    /// <summary>
    /// The pipeline. Order matters:
    /// HSTS → health → hygiene → path normalisation → operator/public listener split → HTTP/2 connection-specific headers → telemetry → routing → classification → body limit → load shedding →
    /// request timeouts → sessions →
    /// rate limiting → response cache → proxy (breaker, retry, timeout in the forwarder's handler).
    /// </summary>
    public static WebApplication Configure(WebApplication app)
    {
        // Every ValidateOnStart check now, all at once, before the proxy config loads and resolves the signing keys:
        // one start-up error lists every bad setting (the host's own pass at start then finds them validated).
        app.Services.GetService<IStartupValidator>()?.Validate();
        app.UseGatewayHsts();
        // Health first: it answers fixed bytes without reading headers or calling anything, so the request checks below
        // protect nothing for it, and skipping them keeps liveness probes at bare-Kestrel cost (docs/performance.md).
        app.UseMiddleware<HealthMiddleware>();     // sets its own X-Request-Id/X-Response-Time: see HealthMiddleware
        app.UseMiddleware<IdentityHeaderHygieneMiddleware>();
        app.UseMiddleware<PathNormalisationMiddleware>();   // before routing: classes are decided on the path the backend gets
        app.UseMiddleware<AdminListenerMiddleware>();   // /metrics, /gateway/*: operator port only, and nothing else there
        app.UseMiddleware<ConnectionSpecificHeadersMiddleware>();   // HTTP/2+ Transfer-Encoding & co.: 400 before routing
        app.UseGatewayRequestTelemetry();
        app.UseRouting();
        app.UseMiddleware<RouteClassificationMiddleware>();
        app.UseMiddleware<RequestBodyLimitMiddleware>();   // before anything reads the body or calls the backend
        app.UseTierLoadShedding();
        app.UseRequestTimeouts();
        app.UseMiddleware<SessionValidationMiddleware>();
        app.UseGatewayRateLimiting();      // after sessions: per-user partitions need the principal
        app.UseGatewayResponseCaching();   // keyed by the validated principal
        app.MapGatewayConfig();
        app.MapGatewayOperatorEndpoints().WithMetadata(new RouteClassMetadata("health"));
        app.MapReverseProxy(ProxyPipeline.Configure);
        return app;
    }
}
