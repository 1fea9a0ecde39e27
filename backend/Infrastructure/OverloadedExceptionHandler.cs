using Gateway.Contracts;
using Backend.Passwords;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace Backend.Infrastructure;

/// <summary>Answers a full password-hashing bulkhead with 503 + Retry-After instead of queueing without bound.</summary>
internal sealed class OverloadedExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not PasswordHashingOverloadedException) return false;
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = "1";
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = new ProblemDetails
            {
                Status = 503,
                Type = ProblemTypes.Overloaded,
                Title = "The service is busy.",
                Detail = "Too many password operations are in progress. Retry shortly.",
            },
        });
    }
}
