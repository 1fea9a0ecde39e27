using Gateway.Browsers;
using Gateway.Caching;
using Gateway.Health;
using Gateway.Hosting;
using Gateway.Identity;
using Gateway.Limits;
using Gateway.Observability;
using Gateway.Pipeline;
using Gateway.Proxy;
using Gateway.RateLimiting;
using Gateway.Redis;
using Gateway.Resilience;
using Gateway.Routing;
using Gateway.Sessions;
using Gateway.Streams;
using Gateway.Tls;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Gateway;

/// <summary>
/// Builds and wires the gateway. Program.cs and the tests use the same two calls, so tests run the real gateway on a
/// real Kestrel port with their own settings (<c>--Backend:BaseUrl=...</c>, <c>--RouteClasses:Path=...</c>, <c>--urls=...</c>).
/// </summary>
internal static class GatewayApp
{
    /// <summary>
    /// Creates the builder: configuration layers, listeners, then one registration per feature folder. Throws
    /// <see cref="RouteClassConfigException"/> for an invalid route-class file and <see cref="OptionsValidationException"/>
    /// for a setting that is needed while building (backend URL, listeners, route-class options); every other setting is
    /// checked at start (<c>ValidateOnStart</c>), all at once.
    /// </summary>
    public static WebApplicationBuilder CreateBuilder(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.AddGatewayConfigurationLayers();
        builder.AddGatewayListeners();
        builder.Logging.AddGatewayLogging(builder.Environment);

        var services = builder.Services;
        var config = builder.Configuration;
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        var backend = BackendAddress.FromConfiguration(config);
        var routes = services.AddGatewayRouting(config, backend);   // first: an invalid route-class file never half-loads
        services.AddGatewayIdentityHeaders(config, [.. routes.Clusters.Keys]);
        services.AddGatewayRedis(config);
        services.AddGatewayHealth(config, backend);
        services.AddGatewaySessions(config, backend);
        services.AddGatewayBrowsers(config);
        services.AddGatewayObservability(config).AddGatewayTracing(config);
        services.AddGatewayRateLimiting(config).AddRouteClassRateLimits();
        services.AddGatewayResponseCaching(config).AddRouteClassResponseCaching();
        services.AddGatewayResilience(config);
        services.AddGatewayProxy(config);
        services.AddGatewayStreams(config);
        return builder;
    }

    /// <summary>
    /// The pipeline. Order matters:
    /// HSTS → health → hygiene → path normalisation → operator/public listener split → HTTP/2 connection-specific headers → telemetry → routing → classification → body limit → admission (load
    /// shedding, the class's deadline) → sessions →
    /// rate limiting → streams → response cache → proxy (ProxyStage: load balancing, passive health, timeout mapping;
    /// then YARP's forwarder with breaker and retry in its handler).
    /// </summary>
    public static WebApplication Configure(WebApplication app)
    {
        // Every ValidateOnStart check now, all at once, before the proxy config loads and resolves the signing keys:
        // one start-up error lists every bad setting (the host's own pass at start then finds them validated).
        app.Services.GetService<IStartupValidator>()?.Validate();
        // YARP registers the authorization services, so WebApplication would put UseAuthorization() in front of every
        // request (an async state machine each, /health included) although no route carries an authorization policy:
        // sessions and roles are the gateway's own (SessionValidationMiddleware). This property is how WebApplication
        // learns that the app placed the middleware itself; a route given a policy would fail loudly, not open.
        ((IApplicationBuilder)app).Properties["__AuthorizationMiddlewareSet"] = true;
        app.UseGatewayHsts();
        // Health first: it answers fixed bytes without reading headers or calling anything, so the request checks below
        // protect nothing for it, and skipping them keeps liveness probes at bare-Kestrel cost (docs/performance.md).
        app.UseMiddleware<HealthMiddleware>();     // sets its own X-Request-Id/X-Response-Time: see HealthMiddleware
        app.UseMiddleware<IdentityHeaderHygieneMiddleware>();
        app.UseMiddleware<PathNormalisationMiddleware>();   // before routing: classes are decided on the path the backend gets
        app.UseMiddleware<AdminListenerMiddleware>();   // /metrics, /gateway/*: operator port only, and nothing else there
        app.UseMiddleware<ProtocolRefusalsMiddleware>();   // TRACE, tunnel CONNECT, HTTP/2+ Transfer-Encoding & co.: 4xx before routing
        app.UseGatewayRequestTelemetry();
        app.UseMiddleware<AmbiguousRequestMiddleware>();   // a request two routes match at the same rank: 400, not 500
        app.UseRouting();
        app.UseMiddleware<RouteClassificationMiddleware>();
        app.UseMiddleware<CorsMiddleware>();   // preflights answered here: before limits, sessions and any backend call
        app.UseMiddleware<RequestBodyLimitMiddleware>();   // before anything reads the body or calls the backend
        app.UseRequestAdmission();   // the tier's load-shedding slot and the class's timeoutMs (AdmissionMiddleware)
        app.UseMiddleware<SessionValidationMiddleware>();
        app.UseGatewayRateLimiting();      // after sessions: per-user partitions need the principal
        app.UseGatewayStreams();           // WebSockets, gRPC, SSE: off the class timeout, registered for revocation
        app.UseGatewayResponseCaching();   // keyed by the validated principal
        app.MapGatewayConfig();
        app.MapGatewayExplain();   // operator-only; matches against the live routes, nothing per request
        app.MapGatewayOperatorEndpoints().WithMetadata(RouteClassMetadata.Operator);
        app.MapReverseProxy(ProxyPipeline.Configure);
        // Endpoints run here rather than at the end WebApplication would add, so that a request no route matched (it
        // went through its default class's checks) gets a problem body naming why, not an empty 404.
        app.UseEndpoints(static _ => { });
        app.Run(static context => context.Response.HasStarted ? Task.CompletedTask : GatewayProblems.NotFound.WriteAsync(context));
        return app;
    }
}
