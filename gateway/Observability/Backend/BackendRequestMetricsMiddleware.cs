using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Gateway.Observability.Backend;

/// <summary>
/// Records <c>backend.request.duration</c> by endpoint route template. Add after <c>UseRouting</c> (or anywhere in
/// minimal-API apps, where routing runs first) with <c>app.UseMiddleware&lt;BackendRequestMetricsMiddleware&gt;()</c>.
/// </summary>
public sealed class BackendRequestMetricsMiddleware(RequestDelegate next, BackendMetrics metrics, TimeProvider time)
{
    public async Task InvokeAsync(HttpContext context)
    {
        long start = time.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            // The route template keeps cardinality bounded; unmatched requests share one label.
            string endpoint = context.GetEndpoint() is RouteEndpoint { RoutePattern.RawText: { } pattern } ? pattern : "unmatched";
            metrics.RecordRequest(endpoint, context.Response.StatusCode, time.GetElapsedTime(start).TotalSeconds);
        }
    }
}
