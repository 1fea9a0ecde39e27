using Gateway.Observability;
using Gateway.Pipeline;
using Yarp.ReverseProxy.Model;

namespace Gateway.Routing;

/// <summary>
/// Runs after endpoint routing: finds the request's route class (YARP route metadata, <see cref="RouteClassMetadata"/>,
/// else the default class), fills <see cref="GatewayRequestFeature"/> and sets <c>X-Route-Class</c>. Refuses /internal/**.
/// </summary>
internal sealed class RouteClassificationMiddleware(RequestDelegate next, IRouteTable table)
{
    public const string HeaderName = "X-Route-Class";

    public Task Invoke(HttpContext context)
    {
        long start = ServerTiming.Start();
        var snapshot = table.Current;
        string? name = null;
        string? cluster = null;
        bool routeHasCors = false;
        var endpoint = context.GetEndpoint();
        if (endpoint is not null)
        {
            var route = endpoint.Metadata.GetMetadata<RouteModel>();
            if (route is not null)
            {
                route.Config.Metadata?.TryGetValue(ProxyConfigBuilder.RouteClassKey, out name);
                cluster = route.Config.ClusterId;
                routeHasCors = route.Config.CorsPolicy is not null;
            }
            else name = endpoint.Metadata.GetMetadata<RouteClassMetadata>()?.ClassName;
        }
        var cls = snapshot.ClassOrDefault(name);

        var feature = GatewayRequestFeature.Of(context);
        if (feature is null)
        {
            feature = new GatewayRequestFeature { StartTimestamp = System.Diagnostics.Stopwatch.GetTimestamp() };
            context.Features.Set(feature);
        }
        feature.RouteClass = cls.Name;
        feature.Tier = cls.Tier;
        feature.BudgetMs = cls.BudgetMs;
        feature.RateLimitPolicy = cls.RateLimit;
        feature.CachePolicy = cls.Cache;
        feature.FailMode = cls.FailMode;
        feature.Cluster = cluster;
        feature.Class = cls;
        feature.RouteHasCors = routeHasCors;
        context.Response.Headers[HeaderName] = cls.HeaderValue;
        ServerTiming.AddStage(context, GatewayStage.Classify, start);

        if (IsInternal(context.Request.Path))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }
        return next(context);
    }

    private static bool IsInternal(PathString path) =>
        path.StartsWithSegments("/internal", StringComparison.OrdinalIgnoreCase);
}
