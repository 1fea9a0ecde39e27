using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Resilience;

/// <summary>
/// Tags each proxied request with its YARP cluster id, so <see cref="ResilienceHandler"/> keeps one breaker per
/// cluster (named as in the route-class file) rather than per destination address.
/// </summary>
internal sealed class ResilienceTransformProvider : ITransformProvider
{
    public void ValidateRoute(TransformRouteValidationContext context) { }
    public void ValidateCluster(TransformClusterValidationContext context) { }

    public void Apply(TransformBuilderContext context)
    {
        string? cluster = context.Cluster?.ClusterId ?? context.Route.ClusterId;
        if (cluster is null) return;
        context.AddRequestTransform(transform =>
        {
            transform.ProxyRequest.Options.Set(ResilienceHandler.ClusterKey, cluster);
            return ValueTask.CompletedTask;
        });
    }
}
