namespace Gateway.Contracts;

/// <summary>
/// The one vocabulary of RFC 9457 problem <c>type</c> URIs for the gateway and the backend (docs/contracts.md, "Problem
/// types"): a client behind the gateway gets answers from both and switches on these values, so each is defined once
/// here and never changes meaning. Each service writes them through its one writer (gateway: <c>GatewayProblems</c>;
/// backend: <c>Problems</c> over ASP.NET Core's <c>IProblemDetailsService</c>).
/// </summary>
public static class ProblemTypes
{
    /// <summary>Every type is this base plus a kebab-case name (docs/decisions.md says why an https base).</summary>
    public const string Base = "https://gateway.dev/problems/";

    // Both services.
    public const string NotFound = Base + "not-found";
    public const string Overloaded = Base + "overloaded";
    public const string TooManyInFlight = Base + "too-many-in-flight";
    /// <summary>A route (an endpoint) matches the path but not the method; the <c>Allow</c> header lists its methods.</summary>
    public const string MethodNotAllowed = Base + "method-not-allowed";

    // The gateway: sessions and identity.
    public const string Unauthenticated = Base + "unauthenticated";
    public const string InvalidToken = Base + "invalid-token";
    public const string MultipleAuthorization = Base + "multiple-authorization";
    public const string NotAMember = Base + "not-a-member";
    public const string OrganisationRequired = Base + "organisation-required";
    public const string OrganisationConflict = Base + "organisation-conflict";
    public const string InsufficientRole = Base + "insufficient-role";
    public const string TooManyInvalidTokens = Base + "too-many-invalid-tokens";
    public const string SessionValidationUnavailable = Base + "session-validation-unavailable";

    // The gateway: browsers (session cookie, CSRF, CORS).
    public const string CsrfOriginMismatch = Base + "csrf-origin-mismatch";
    public const string CorsPreflightRefused = Base + "cors-preflight-refused";
    public const string InvalidSessionCookieRequest = Base + "invalid-session-cookie-request";

    // The gateway: request hygiene and limits.
    public const string AmbiguousPath = Base + "ambiguous-path";
    public const string AmbiguousLoginBody = Base + "ambiguous-login-body";
    public const string ConnectionSpecificHeader = Base + "connection-specific-header";
    public const string WebSocketNotAccepted = Base + "websocket-not-accepted";
    public const string BadWebSocketHandshake = Base + "bad-websocket-handshake";
    public const string UnsupportedConnect = Base + "unsupported-connect";
    public const string TraceNotAllowed = Base + "trace-not-allowed";
    public const string UriTooLong = Base + "uri-too-long";
    public const string AmbiguousRequest = Base + "ambiguous-request";
    public const string TooManyUploads = Base + "too-many-uploads";
    public const string BodyTooLarge = Base + "body-too-large";
    public const string RequestBodyTimeout = Base + "request-body-timeout";
    public const string RateLimited = Base + "rate-limited";

    // The gateway: upstream failures (the name is also the X-Gateway-Fault header value).
    public const string CircuitOpen = Base + "circuit-open";
    public const string Timeout = Base + "timeout";
    public const string NoHealthyDestination = Base + "no-healthy-destination";
    /// <summary>A new WebSocket, gRPC call or event stream while the instance drains for shutdown: retry on another instance.</summary>
    public const string ShuttingDown = Base + "shutting-down";
    /// <summary>A new stream from a client (its user, or its address) that already has <c>Streams:MaxPerClient</c> open here.</summary>
    public const string TooManyStreams = Base + "too-many-streams";

    // The backend.
    public const string Validation = Base + "validation";
    public const string DuplicateEmail = Base + "duplicate-email";
    public const string InvalidCredentials = Base + "invalid-credentials";
    public const string TooManyAttempts = Base + "too-many-attempts";
    public const string Unauthorized = Base + "unauthorized";
    public const string Forbidden = Base + "forbidden";
    public const string Conflict = Base + "conflict";
    /// <summary>410: an endpoint that was withdrawn; the detail names its replacement.</summary>
    public const string Gone = Base + "gone";
    public const string PayloadTooLarge = Base + "payload-too-large";
    public const string UnsupportedMediaType = Base + "unsupported-media-type";
    public const string Unavailable = Base + "unavailable";
    /// <summary>503 with Retry-After: the database rolled the request back to resolve a deadlock or serialization conflict.</summary>
    public const string TransactionConflict = Base + "transaction-conflict";
    public const string Internal = Base + "internal";
    public const string RevocationPending = Base + "revocation-pending";
}
