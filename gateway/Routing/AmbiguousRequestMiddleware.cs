using Gateway.Pipeline;

namespace Gateway.Routing;

/// <summary>
/// In front of routing: a request that two routes match at the same rank is the client's 400 <c>ambiguous-request</c>,
/// not a 500. Validation refuses routes that could (RouteOverlap), but YARP splits a header's comma-separated values and
/// matches each, so <c>X-Tenant: a, b</c> satisfies a route on value <c>a</c> and one on <c>b</c> alike; ASP.NET routing
/// then threw <c>AmbiguousMatchException</c>, which answered 500 and logged an Error per request. The matcher fails
/// while the request is routed, before anything awaits, so routing hands back an already faulted task (its header
/// policy makes the selection an async method): looking at it costs nothing on the way through, no async frame.
/// </summary>
internal sealed class AmbiguousRequestMiddleware(RequestDelegate next)
{
    public Task Invoke(HttpContext context)
    {
        Task routed;
        try
        {
            routed = next(context);
        }
        catch (Exception ex) when (IsAmbiguousMatch(ex) && !context.Response.HasStarted)
        {
            return GatewayProblems.AmbiguousRequest.WriteAsync(context);
        }
        return routed.IsFaulted && IsAmbiguousMatch(routed.Exception!.InnerException) && !context.Response.HasStarted
            ? GatewayProblems.AmbiguousRequest.WriteAsync(context)
            : routed;
    }

    // The framework's type is internal (Microsoft.AspNetCore.Routing.Matching.AmbiguousMatchException).
    private static bool IsAmbiguousMatch(Exception? ex) =>
        ex?.GetType().FullName == "Microsoft.AspNetCore.Routing.Matching.AmbiguousMatchException";
}
