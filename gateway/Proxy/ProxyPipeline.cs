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
        proxy.Use(TimeAndMapTimeout);
        proxy.UseSessionAffinity();
        proxy.UseLoadBalancing();
        proxy.UsePassiveHealthChecks();
    }

    // One async stage for both jobs, taking a RequestDelegate: the Func<Task> overload of Use allocates a closure per
    // request, and each async stage a state machine.
    private static async Task TimeAndMapTimeout(HttpContext context, RequestDelegate next)
    {
        using (GatewayTracing.StartStage(context, GatewayStage.Proxy))
            await next(context).ConfigureAwait(false);
        if (context.Response.HasStarted) return;
        var error = context.Features.Get<IForwarderErrorFeature>();
        if (error is { Error: ForwarderError.NoAvailableDestinations })
        {
            await NoHealthyDestination.WriteAsync(context).ConfigureAwait(false);
            return;
        }
        if (error is { Error: ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled }
            && context.Features.Get<IHttpRequestTimeoutFeature>()?.RequestTimeoutToken.IsCancellationRequested == true)
            context.Response.StatusCode = StatusCodes.Status504GatewayTimeout;
    }
}
