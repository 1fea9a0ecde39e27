using Gateway.Contracts;
using Gateway.Pipeline;
using Gateway.Resilience;
using Yarp.ReverseProxy.Model;

namespace Gateway.Proxy;

/// <summary>
/// The answer when health checks have taken every destination of a cluster out of rotation: YARP sets 503 without a
/// body; the client gets the same kind of problem as for an open breaker, naming the cluster, with <c>Retry-After</c>
/// set to the next probe (an active check may bring a destination back by then).
/// </summary>
internal static class NoHealthyDestination
{
    public const string Fault = "no-healthy-destination";

    public static Task WriteAsync(HttpContext context)
    {
        var cluster = context.Features.Get<IReverseProxyFeature>()?.Cluster.Config;
        string name = cluster?.ClusterId ?? "unknown";
        var interval = cluster?.HealthCheck?.Active?.Interval ?? TimeSpan.FromSeconds(60);   // YARP's passive reactivation period
        var response = context.Response;
        response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        response.Headers[ResilienceHandler.FaultHeader] = Fault;
        response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(interval.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        // The cluster as an extension member, as for an open breaker (ResilienceHandler).
        byte[] body = GatewayProblems.Encode(ProblemTypes.NoHealthyDestination, "No healthy upstream instance.", 503,
            $"Every destination of cluster '{name}' is failing its health checks; the gateway sends it no requests until one recovers.", "cluster", name);
        response.ContentType = "application/problem+json";
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }
}
