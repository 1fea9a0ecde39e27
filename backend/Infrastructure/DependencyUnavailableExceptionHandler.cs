using Gateway.Contracts;
using Microsoft.AspNetCore.Diagnostics;
using Npgsql;

namespace Backend.Infrastructure;

/// <summary>
/// PostgreSQL unreachable (refused, reset, timed out: what Npgsql marks transient) is 503 without <c>Retry-After</c>:
/// the backend cannot serve anyone right now, which is what the gateway's breaker counts. A generic 500 would not be
/// counted (the gateway treats a 500 as one request failing, so that one client's bad input cannot open the breaker
/// for all), and a 503 with <c>Retry-After</c> is back-pressure of a healthy backend (docs/policies.md).
/// </summary>
internal sealed class DependencyUnavailableExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not NpgsqlException { IsTransient: true }) return false;
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = new Microsoft.AspNetCore.Mvc.ProblemDetails
            {
                Status = 503,
                Type = ProblemTypes.Unavailable,
                Title = "The service is unavailable.",
                Detail = "The database cannot be reached. Retry later.",
            },
        });
    }
}
