using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Backend.Observability;

/// <summary>
/// Records <c>backend.request.duration</c> by endpoint route template. Add with
/// <c>app.UseMiddleware&lt;BackendRequestMetricsMiddleware&gt;()</c>; in minimal-API apps routing has already
/// selected the endpoint by then. Uses the registered <see cref="TimeProvider"/>, or the system clock.
/// </summary>
internal sealed class BackendRequestMetricsMiddleware(RequestDelegate next, BackendMetrics metrics, IServiceProvider services)
{
    private readonly TimeProvider _time = services.GetService<TimeProvider>() ?? TimeProvider.System;

    public async Task InvokeAsync(HttpContext context)
    {
        long start = _time.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            // The route template keeps cardinality bounded; unmatched requests share one label.
            string endpoint = context.GetEndpoint() is RouteEndpoint { RoutePattern.RawText: { } pattern } ? pattern : "unmatched";
            metrics.RecordRequest(endpoint, context.Response.StatusCode, _time.GetElapsedTime(start).TotalSeconds);
        }
    }
}
