using System.Diagnostics;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;

namespace Backend.Infrastructure;

/// <summary>
/// Writes a problem as <c>application/problem+json</c> whatever the request's <c>Accept</c> says, after ASP.NET Core's
/// own writer (which refuses a request whose <c>Accept</c> names neither JSON type). An API has no other form for its
/// errors, and HTTP lets a server answer in a form the client did not ask for rather than fail (RFC 9110, 12.1).
/// Without it, <c>Accept: text/html</c> turned a 401 or 415 into a 500 (<c>WriteAsync</c> threw for want of a writer)
/// and every error answered through an exception handler into an empty response.
/// </summary>
internal sealed class JsonProblemDetailsWriter(IOptions<ProblemDetailsOptions> problemOptions, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> jsonOptions)
    : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) => true;

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var http = context.HttpContext;
        var problem = context.ProblemDetails;
        // What the framework's writer fills in (its defaults are internal): status, a title, the trace id.
        problem.Status ??= http.Response.StatusCode;
        problem.Title ??= ReasonPhrases.GetReasonPhrase(problem.Status.Value);
        problem.Extensions.TryAdd("traceId", Activity.Current?.Id ?? http.TraceIdentifier);
        problemOptions.Value.CustomizeProblemDetails?.Invoke(context);
        return new ValueTask(http.Response.WriteAsJsonAsync(problem, problem.GetType(), jsonOptions.Value.SerializerOptions, "application/problem+json"));
    }
}
