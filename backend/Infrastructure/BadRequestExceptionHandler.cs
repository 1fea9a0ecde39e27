using Gateway.Contracts;
using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;

namespace Backend.Infrastructure;

/// <summary>
/// The one place a request the endpoint could not even bind is answered: a body that is not one JSON object of the
/// parameter's shape, a missing or non-JSON body, a path or query value of the wrong type, a body over Kestrel's limit.
/// All of these arrive as <see cref="BadHttpRequestException"/> (minimal APIs throw it in every environment, see
/// <see cref="InfrastructureExtensions.AddInfrastructure"/>), and are the client's fault: 400/413/415 with the problem
/// type of that status. Left to the generic handler they were 500s, which the gateway's breaker counted against every
/// client of the cluster.
/// </summary>
internal sealed class BadRequestExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException bad) return false;
        // Only statuses that blame the request; anything else keeps the generic 500 path.
        int status = bad.StatusCode is >= 400 and < 500 ? bad.StatusCode : StatusCodes.Status400BadRequest;
        httpContext.Response.StatusCode = status;
        var problem = status == StatusCodes.Status400BadRequest
            ? new HttpValidationProblemDetails(new Dictionary<string, string[]> { [Field(bad)] = [Detail(bad)] }) { Title = "The request is invalid." }
            : new Microsoft.AspNetCore.Mvc.ProblemDetails { Title = status == StatusCodes.Status415UnsupportedMediaType ? "Unsupported media type." : "The request is invalid." };
        problem.Status = status;
        problem.Type = Problems.TypeForStatus(status) ?? ProblemTypes.Validation;
        problem.Detail = Detail(bad);
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem, Exception = exception });
    }

    /// <summary>The JSON path of a body that failed to deserialize (e.g. <c>$.email</c>), else the request as a whole.</summary>
    private static string Field(BadHttpRequestException bad) => bad.InnerException is JsonException { Path: { Length: > 0 } path } ? path : "request";

    /// <summary>
    /// The framework's message names the parameter ("Failed to bind parameter \"int? limit\" from \"abc\"."); the JSON
    /// reader's adds what was wrong with the body (a duplicate property, a wrong type at a path). Neither holds more than
    /// the client sent.
    /// </summary>
    private static string Detail(BadHttpRequestException bad) =>
        bad.InnerException is JsonException json && !string.IsNullOrEmpty(json.Message) ? bad.Message + " " + json.Message : bad.Message;
}
