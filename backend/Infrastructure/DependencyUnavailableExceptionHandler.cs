using Gateway.Contracts;
using Microsoft.AspNetCore.Diagnostics;
using Npgsql;

namespace Backend.Infrastructure;

/// <summary>
/// PostgreSQL unreachable (refused, reset, timed out: what Npgsql marks transient) is 503 without <c>Retry-After</c>:
/// the backend cannot serve anyone right now, which is what the gateway's breaker counts. A generic 500 would not be
/// counted (the gateway treats a 500 as one request failing, so that one client's bad input cannot open the breaker
/// for all), and a 503 with <c>Retry-After</c> is back-pressure of a healthy backend (docs/policies.md).
/// <para>A deadlock or serialization failure is also "transient" to Npgsql, but it is one request colliding with
/// another on a database that answers: 503 with <c>Retry-After: 1</c> and type <c>transaction-conflict</c>, which the
/// breaker does not count. (Until 2026-12-05 it read "the database cannot be reached", and counted.)</para>
/// </summary>
internal sealed class DependencyUnavailableExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not NpgsqlException { IsTransient: true }) return false;
        bool conflict = exception is PostgresException { SqlState: PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure };
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        if (conflict) httpContext.Response.Headers.RetryAfter = "1";
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = conflict
                ? new Microsoft.AspNetCore.Mvc.ProblemDetails
                {
                    Status = 503,
                    Type = ProblemTypes.TransactionConflict,
                    Title = "The request collided with a concurrent one.",
                    Detail = "The database rolled this request's transaction back to resolve a conflict with another request. Retry it.",
                }
                : new Microsoft.AspNetCore.Mvc.ProblemDetails
                {
                    Status = 503,
                    Type = ProblemTypes.Unavailable,
                    Title = "The service is unavailable.",
                    Detail = "The database cannot be reached. Retry later.",
                },
        });
    }
}
