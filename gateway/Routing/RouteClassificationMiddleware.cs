using Gateway.Observability;
using Gateway.Pipeline;
using Yarp.ReverseProxy.Model;

namespace Gateway.Routing;

/// <summary>
/// Runs after endpoint routing: finds the request's route class (YARP route metadata, <see cref="RouteClassMetadata"/>,
/// else the default class), fills <see cref="GatewayRequestFeature"/> and sets <c>X-Route-Class</c>. Refuses
/// what would reach the backend's /internal/** (404), also through a route that removes a prefix, and gives routing's
/// 405 a problem body (<see cref="MethodNotAllowedProblem"/>).
/// </summary>
internal sealed class RouteClassificationMiddleware(RequestDelegate next, IRouteTable table)
{
    public const string HeaderName = "X-Route-Class";

    public Task Invoke(HttpContext context)
    {
        long start = ServerTiming.Start();
        string? name = null;
        string? generation = null;
        string? cluster = null;
        string? routeId = null;
        string? removedPrefix = null;
        bool routeHasCors = false;
        RouteClass? builtIn = null;
        var endpoint = context.GetEndpoint();
        if (endpoint is not null)
        {
            var route = endpoint.Metadata.GetMetadata<RouteModel>();
            if (route is not null)
            {
                if (route.Config.Metadata is { } metadata)
                {
                    metadata.TryGetValue(ProxyConfigBuilder.RouteClassKey, out name);
                    metadata.TryGetValue(ProxyConfigBuilder.SnapshotKey, out generation);
                    metadata.TryGetValue(ProxyConfigBuilder.PathRemovePrefixKey, out removedPrefix);
                }
                cluster = route.Config.ClusterId;
                routeId = route.Config.RouteId;
                routeHasCors = route.Config.CorsPolicy is not null;
            }
            else
            {
                builtIn = endpoint.Metadata.GetMetadata<RouteClassMetadata>()?.Class;
                // Routing's 405 runs under the default class's checks, then answers a problem (not a bare status).
                if (MethodNotAllowedProblem.TryTwin(endpoint, out var twin)) context.SetEndpoint(twin);
            }
        }
        var (snapshot, cls) = table.Resolve(generation, name);
        if (builtIn is not null) cls = builtIn;

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
        feature.RouteId = routeId;
        feature.Class = cls;
        feature.Snapshot = snapshot;
        feature.RouteHasCors = routeHasCors;
        feature.RemovedPrefix = removedPrefix;
        context.Response.Headers[HeaderName] = cls.HeaderValue;
        ServerTiming.AddStage(context, GatewayStage.Classify, start);

        // The same answer as a path no route matches: /internal does not exist on the edge.
        if (ReachesInternal(context.Request.Path, removedPrefix)) return GatewayProblems.NotFound.WriteAsync(context);
        return next(context);
    }

    /// <summary>
    /// Whether the backend would get a path under <c>/internal</c>: the client's path, or what is left of it once the
    /// route removed its prefix (<c>/api/internal/x</c> through a route that removes <c>/api</c>), as YARP removes it:
    /// by whole segments, in any letter case. The explainer (<c>/gateway/explain</c>) asks the same question.
    /// </summary>
    public static bool ReachesInternal(PathString path, string? removedPrefix)
    {
        var value = (path.Value ?? "").AsSpan();
        return StartsWithSegment(value, InternalPath) || (removedPrefix is not null && StartsWithSegment(BackendPath(value, removedPrefix), InternalPath));
    }

    /// <summary>
    /// The path the backend gets: the client's, less the route's removed prefix when the path starts with it (as YARP
    /// removes it: by whole segments, in any letter case). A span of the client's path: no string per request.
    /// </summary>
    public static ReadOnlySpan<char> BackendPath(ReadOnlySpan<char> path, string? removedPrefix) =>
        removedPrefix is not null && StartsWithSegment(path, removedPrefix) ? path[removedPrefix.Length..] : path;

    private const string InternalPath = "/internal";

    /// <summary>As <see cref="PathString.StartsWithSegments(PathString, StringComparison)"/>, in any letter case.</summary>
    private static bool StartsWithSegment(ReadOnlySpan<char> path, string prefix) =>
        path.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) && (path.Length == prefix.Length || path[prefix.Length] == '/');
}
