using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Proxy;

/// <summary>
/// Backends' responses reach clients without the headers that say what software serves them (<c>Server</c>,
/// <c>X-Powered-By</c>, <c>X-AspNet-Version</c>, <c>X-AspNetMvc-Version</c>): a version number is a free start for
/// whoever looks for a known vulnerability, and the edge should not publish what runs behind it. The gateway's own
/// responses carry no <c>Server</c> header either (Listeners). The removal runs before the route's own
/// <c>responseHeaders</c>, so an operator who wants one of them back sets it there. docs/hardening.md.
/// </summary>
internal sealed class DisclosureHeadersTransformProvider : ITransformProvider
{
    internal static readonly string[] Names = ["Server", "X-Powered-By", "X-AspNet-Version", "X-AspNetMvc-Version"];

    public void ValidateRoute(TransformRouteValidationContext context) { }

    public void ValidateCluster(TransformClusterValidationContext context) { }

    public void Apply(TransformBuilderContext context) => context.ResponseTransforms.Insert(0, Remove.Instance);

    private sealed class Remove : ResponseTransform
    {
        public static readonly Remove Instance = new();

        public override ValueTask ApplyAsync(ResponseTransformContext context)
        {
            var headers = context.HttpContext.Response.Headers;
            foreach (var name in Names) headers.Remove(name);
            return ValueTask.CompletedTask;
        }
    }
}
