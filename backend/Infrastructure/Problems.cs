using Microsoft.AspNetCore.Http.HttpResults;

namespace Backend.Infrastructure;

/// <summary>The stable ProblemDetails <c>type</c> URIs of this service (RFC 9457). Clients may switch on them.</summary>
internal static class Problems
{
    public const string Base = "https://gateway.dev/problems/";
    public const string Validation = Base + "validation";
    public const string DuplicateEmail = Base + "duplicate-email";
    public const string InvalidCredentials = Base + "invalid-credentials";
    public const string TooManyAttempts = Base + "too-many-attempts";
    public const string Unauthorized = Base + "unauthorized";
    public const string Forbidden = Base + "forbidden";
    public const string NotFound = Base + "not-found";
    public const string Conflict = Base + "conflict";
    public const string PayloadTooLarge = Base + "payload-too-large";
    public const string UnsupportedMediaType = Base + "unsupported-media-type";
    public const string Overloaded = Base + "overloaded";
    public const string Unavailable = Base + "unavailable";
    public const string Internal = Base + "internal";
    public const string RevocationPending = Base + "revocation-pending";

    public static ValidationProblem ValidationFailed(Dictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors, title: "The request is invalid.", type: Validation);

    public static ProblemHttpResult NotFoundProblem(string detail) =>
        TypedResults.Problem(detail, statusCode: 404, title: "Not found.", type: NotFound);

    public static ProblemHttpResult ForbiddenProblem(string detail) =>
        TypedResults.Problem(detail, statusCode: 403, title: "Forbidden.", type: Forbidden);

    public static ProblemHttpResult ConflictProblem(string detail) =>
        TypedResults.Problem(detail, statusCode: 409, title: "Conflict.", type: Conflict);

    public static ProblemHttpResult UnauthorizedProblem(string detail) =>
        TypedResults.Problem(detail, statusCode: 401, title: "Unauthorized.", type: Unauthorized);

    /// <summary>
    /// The change is committed, but Redis has not acknowledged it within <c>Invalidation:ConfirmTimeout</c>, so the edge may
    /// still accept the old session for a while: never reported as success. The outbox keeps retrying.
    /// </summary>
    public static ProblemHttpResult RevocationPendingProblem(HttpContext http)
    {
        http.Response.Headers.RetryAfter = "1";
        return TypedResults.Problem(
            "The change is saved, but the edge has not confirmed it yet: until it does, the affected sessions may still be accepted. " +
            "It is retried until Redis acknowledges it; repeat the request to wait for it.",
            statusCode: 503, title: "Revocation pending.", type: RevocationPending);
    }

    /// <summary>Type for a bare status code (status-code pages, authentication challenges).</summary>
    public static string? TypeForStatus(int status) => status switch
    {
        400 => Validation,
        401 => Unauthorized,
        403 => Forbidden,
        404 => NotFound,
        409 => Conflict,
        413 => PayloadTooLarge,
        415 => UnsupportedMediaType,
        429 => TooManyAttempts,
        503 => Overloaded,
        >= 500 => Internal,
        _ => null,
    };
}
