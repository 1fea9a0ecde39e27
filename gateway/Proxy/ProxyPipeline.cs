using Gateway.Observability;
using Microsoft.AspNetCore.Http.Timeouts;
using Gateway.Resilience;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Gateway.Proxy;

/// <summary>
/// The YARP proxy pipeline: YARP's standard steps plus the mapping of a class timeout to 504 (counted on the cluster's breaker). YARP 2.1 reports a
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
        {
            context.Response.StatusCode = StatusCodes.Status504GatewayTimeout;
            CountTimeoutOnBreaker(context, error.Error);
        }
    }

    /// <summary>
    /// A backend that did not answer within the class's timeout counts as a failure on its cluster's breaker, but only
    /// for a request without a body: a client sending its body slowly also runs into the deadline, and one client's
    /// slowness must never open a breaker that every client of the cluster depends on.
    /// </summary>
    private static void CountTimeoutOnBreaker(HttpContext context, ForwarderError error)
    {
        if (error != ForwarderError.RequestCanceled || context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true) return;
        if (context.Features.Get<IReverseProxyFeature>()?.Cluster?.Config.ClusterId is not { Length: > 0 } cluster) return;
        var resilience = context.RequestServices.GetRequiredService<BackendResilience>();
        resilience.Get(cluster).Breaker.Record(resilience.CountsOnBreaker(cluster, failed: true));
    }
}
