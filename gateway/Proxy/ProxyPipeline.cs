using System.Collections.Frozen;
using Gateway.Observability;
using Gateway.Pipeline;
using Gateway.Resilience;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Timeouts;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace Gateway.Proxy;

/// <summary>
/// The gateway's steps of every YARP route, in one stage in front of YARP's forwarder step. YARP's standard pipeline
/// ran four middlewares here (session affinity, load balancing, passive health, the gateway's timeout mapping), two of
/// them async frames that every proxied request resumed through (docs/performance.md, "Third pass"):
/// <list type="bullet">
/// <item>Session affinity: the route file configures none (it has no affinity settings), so that step never did anything.</item>
/// <item>Load balancing and passive health: here, with YARP's own policies, so health checks, <c>/gateway/status</c> and
///   explain see the same state as before. The forwarder step after it counts each destination's requests in flight
///   (what <c>LeastRequests</c> and <c>PowerOfTwoChoices</c> read); those counters are YARP's own.</item>
/// <item>A class timeout becomes 504 (counted on the breaker): YARP reports a request cancelled by the deadline as a
///   client cancellation (400), and the client did nothing wrong. Unless the client was still sending its body then:
///   408, the client's delay, not counted.</item>
/// </list>
/// </summary>
internal static class ProxyPipeline
{
    public static void Configure(IReverseProxyApplicationBuilder proxy) => proxy.UseMiddleware<ProxyStage>();
}

/// <summary>See <see cref="ProxyPipeline"/>.</summary>
internal sealed partial class ProxyStage
{
    private readonly RequestDelegate _next;
    private readonly BackendResilience _resilience;
    private readonly FrozenDictionary<string, ILoadBalancingPolicy> _balancers;
    private readonly FrozenDictionary<string, IPassiveHealthCheckPolicy> _passive;
    private readonly ILogger _logger;

    public ProxyStage(RequestDelegate next, BackendResilience resilience, IEnumerable<ILoadBalancingPolicy> balancers,
        IEnumerable<IPassiveHealthCheckPolicy> passive, ILogger<ProxyStage> logger)
    {
        _next = next;
        _resilience = resilience;
        // Policy names are case-insensitive in YARP's config, as in its own middlewares.
        _balancers = balancers.ToFrozenDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
        _passive = passive.ToFrozenDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
        _logger = logger;
    }

    public Task Invoke(HttpContext context)
    {
        var proxy = context.Features[typeof(IReverseProxyFeature)] as IReverseProxyFeature
            ?? throw new InvalidOperationException("The proxy stage runs inside YARP's pipeline, which sets IReverseProxyFeature.");
        var destination = Pick(context, proxy);
        if (destination is null)
        {
            Log.NoHealthyDestination(_logger, proxy.Cluster.Config.ClusterId);
            proxy.AvailableDestinations = [];
            return NoHealthyDestination.WriteAsync(context);
        }
        proxy.AvailableDestinations = destination;   // one destination: the forwarder step sends there
        return ForwardAsync(context, proxy);
    }

    private DestinationState? Pick(HttpContext context, IReverseProxyFeature proxy)
    {
        var destinations = proxy.AvailableDestinations;
        if (destinations.Count <= 1) return destinations.Count == 0 ? null : destinations[0];
        var name = proxy.Cluster.Config.LoadBalancingPolicy ?? LoadBalancingPolicies.PowerOfTwoChoices;
        if (!_balancers.TryGetValue(name, out var policy))
            throw new InvalidOperationException($"No load balancing policy named '{name}' is registered.");   // the route file allows YARP's own only
        return policy.PickDestination(context, proxy.Route.Cluster!, destinations);
    }

    private async Task ForwardAsync(HttpContext context, IReverseProxyFeature proxy)
    {
        using (GatewayTracing.StartStage(context, GatewayStage.Proxy))
            await _next(context).ConfigureAwait(false);

        var cluster = proxy.Cluster.Config;
        if (cluster.HealthCheck?.Passive is { Enabled: true } passive && proxy.ProxiedDestination is { } destination
            && _passive.TryGetValue(passive.Policy ?? HealthCheckConstants.PassivePolicy.TransportFailureRate, out var policy))
            policy.RequestProxied(context, proxy.Route.Cluster!, destination);

        if (context.Response.HasStarted) return;
        if (context.Features.Get<IForwarderErrorFeature>() is { Error: ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled } error
            && context.Features.Get<IHttpRequestTimeoutFeature>() is RequestDeadline { Expired: true })
        {
            if (error.Error == ForwarderError.RequestBodyCanceled)
            {
                // The deadline passed while the client was still sending its body: the client's delay, not the backend's.
                GatewayProblems.CloseAfterResponse(context);
                await GatewayProblems.RequestBodyTimeout.WriteAsync(context).ConfigureAwait(false);
                return;
            }
            context.Response.StatusCode = StatusCodes.Status504GatewayTimeout;
            CountTimeoutOnBreaker(context, error.Error, cluster.ClusterId);
        }
    }

    /// <summary>
    /// A backend that did not answer within the class's timeout counts as a failure on its cluster's breaker, but only
    /// for a request without a body: a client sending its body slowly also runs into the deadline, and one client's
    /// slowness must never open a breaker that every client of the cluster depends on.
    /// </summary>
    private void CountTimeoutOnBreaker(HttpContext context, ForwarderError error, string cluster)
    {
        if (error != ForwarderError.RequestCanceled || context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true) return;
        _resilience.Get(cluster).Breaker.Record(_resilience.CountsOnBreaker(cluster, failed: true));
    }

    private static partial class Log
    {
        // Debug: it repeats for every request while the cluster is down; the cluster's open breaker
        // (gateway_breaker_state, alert GatewayNoHealthyDestination) and /gateway/status are the operator's signal.
        [LoggerMessage(7001, LogLevel.Debug, "No healthy destination in cluster '{Cluster}': answered 503.", EventName = "NoHealthyDestination")]
        public static partial void NoHealthyDestination(ILogger logger, string cluster);
    }
}
