using Gateway.Observability;
using Microsoft.AspNetCore.Http.Timeouts;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Proxy;

/// <summary>
/// The YARP proxy pipeline: YARP's standard steps plus the mapping of a class timeout to 504. YARP 2.1 reports a
/// request cancelled by the request-timeouts middleware as a client cancellation (400); the client did nothing wrong.
/// </summary>
internal static class ProxyPipeline
{
    public static void Configure(IReverseProxyApplicationBuilder proxy)
    {
        proxy.Use(TimeProxyStage);
        proxy.Use(MapTimeoutTo504);
        proxy.UseSessionAffinity();
        proxy.UseLoadBalancing();
        proxy.UsePassiveHealthChecks();
    }

    private static async Task TimeProxyStage(HttpContext context, Func<Task> next)
    {
        using var stage = GatewayTracing.StartStage(context, GatewayStage.Proxy);
        await next().ConfigureAwait(false);
    }

    private static async Task MapTimeoutTo504(HttpContext context, Func<Task> next)
    {
        await next().ConfigureAwait(false);
        if (context.Response.HasStarted) return;
        var error = context.Features.Get<IForwarderErrorFeature>();
        if (error is { Error: ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled }
            && context.Features.Get<IHttpRequestTimeoutFeature>()?.RequestTimeoutToken.IsCancellationRequested == true)
            context.Response.StatusCode = StatusCodes.Status504GatewayTimeout;
    }
}
