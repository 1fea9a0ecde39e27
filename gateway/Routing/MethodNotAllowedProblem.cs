using System.Runtime.CompilerServices;
using Gateway.Pipeline;

namespace Gateway.Routing;

/// <summary>
/// Routing answers a path that a route serves with another method through its own endpoint, which sets 405 and the
/// <c>Allow</c> header (RFC 9110 §15.5.6) and writes no body: the one gateway error that was not a problem
/// (docs/contracts.md, "Problem types"). <see cref="RouteClassificationMiddleware"/> swaps that endpoint for one that
/// runs it, then writes <c>method-not-allowed</c>, so the class's checks still come first and the Allow header stays.
/// </summary>
internal static class MethodNotAllowedProblem
{
    /// <summary>The display name ASP.NET Core's routing gives its 405 endpoints (HttpMethodMatcherPolicy).</summary>
    public const string RoutingEndpointName = "405 HTTP Method Not Supported";

    // Routing keeps one 405 endpoint per set of methods; each gets its problem-writing twin once.
    private static readonly ConditionalWeakTable<Endpoint, Endpoint> Twins = new();

    /// <summary>For routing's 405 endpoint, the twin that runs it and adds the problem body; false for any other.</summary>
    public static bool TryTwin(Endpoint endpoint, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Endpoint? twin)
    {
        twin = endpoint is { DisplayName: RoutingEndpointName, RequestDelegate: not null }
            ? Twins.GetValue(endpoint, static e => new Endpoint(context => WriteAsync(context, e.RequestDelegate!), e.Metadata, e.DisplayName))
            : null;
        return twin is not null;
    }

    private static async Task WriteAsync(HttpContext context, RequestDelegate refuse)
    {
        await refuse(context).ConfigureAwait(false);   // 405 and Allow
        if (!context.Response.HasStarted) await GatewayProblems.MethodNotAllowed.WriteAsync(context).ConfigureAwait(false);
    }
}
