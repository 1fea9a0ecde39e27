using Gateway.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Backend.Infrastructure;

/// <summary>
/// The backend's problem responses (RFC 9457), written by ASP.NET Core's problem details service with the types of the
/// shared vocabulary, <see cref="ProblemTypes"/> (contracts/), which clients may switch on.
/// </summary>
internal static class Problems
{
    public static ValidationProblem ValidationFailed(Dictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors, title: "The request is invalid.", type: ProblemTypes.Validation);

    public static ProblemHttpResult NotFoundProblem(string detail) =>
        TypedResults.Problem(detail, statusCode: 404, title: "Not found.", type: ProblemTypes.NotFound);

    public static ProblemHttpResult ForbiddenProblem(string detail) =>
        TypedResults.Problem(detail, statusCode: 403, title: "Forbidden.", type: ProblemTypes.Forbidden);

    public static ProblemHttpResult ConflictProblem(string detail) =>
        TypedResults.Problem(detail, statusCode: 409, title: "Conflict.", type: ProblemTypes.Conflict);

    public static ProblemHttpResult GoneProblem(string detail) =>
        TypedResults.Problem(detail, statusCode: 410, title: "Gone.", type: ProblemTypes.Gone);

    public static ProblemHttpResult UnauthorizedProblem(string detail) =>
        TypedResults.Problem(detail, statusCode: 401, title: "Unauthorized.", type: ProblemTypes.Unauthorized);

    /// <summary>
    /// The change is committed, but Redis has not acknowledged it within <c>Invalidation:ConfirmTimeout</c>, so the edge may
    /// still accept the old session for a while: never reported as success. The outbox keeps retrying.
    /// </summary>
    /// <param name="doNotRepeat">For a change whose repeat would not be the same request (it creates another organisation,
    /// or checks the password it just replaced): why not to repeat it, instead of the advice to.</param>
    public static ProblemHttpResult RevocationPendingProblem(HttpContext http, string? doNotRepeat = null)
    {
        http.Response.Headers.RetryAfter = "1";
        return TypedResults.Problem(
            "The change is saved, but the edge has not confirmed it yet: until it does, the affected sessions may still be accepted. " +
            (doNotRepeat is null
                ? "It is retried until Redis acknowledges it; repeat the request to wait for it."
                : "It is retried in the background until Redis acknowledges it. Do not repeat the request: " + doNotRepeat),
            statusCode: 503, title: "Revocation pending.", type: ProblemTypes.RevocationPending);
    }

    /// <summary>Type for a bare status code (status-code pages, authentication challenges).</summary>
    public static string? TypeForStatus(int status) => status switch
    {
        400 => ProblemTypes.Validation,
        401 => ProblemTypes.Unauthorized,
        403 => ProblemTypes.Forbidden,
        404 => ProblemTypes.NotFound,
        405 => ProblemTypes.MethodNotAllowed,   // routing's refusal; its Allow header stays
        409 => ProblemTypes.Conflict,
        413 => ProblemTypes.PayloadTooLarge,
        415 => ProblemTypes.UnsupportedMediaType,
        429 => ProblemTypes.TooManyAttempts,
        503 => ProblemTypes.Overloaded,
        >= 500 => ProblemTypes.Internal,
        _ => null,
    };
}
