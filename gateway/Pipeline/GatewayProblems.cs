using System.Text;

namespace Gateway.Pipeline;

/// <summary>
/// RFC 9457 problem responses with stable <c>type</c> values. Bodies are pre-encoded: writing one allocates nothing.
/// </summary>
public static class GatewayProblems
{
    public const string TypePrefix = "urn:gateway:problem:";

    public static readonly Problem MissingToken = new(401, "unauthenticated", "Authentication required", "Send a session token as 'Authorization: Bearer <token>' or in the 'session' cookie.", "Bearer");
    public static readonly Problem InvalidToken = new(401, "invalid-token", "Invalid session", "The session token is malformed, unknown, revoked or expired.", "Bearer error=\"invalid_token\"");
    public static readonly Problem MultipleAuthorization = new(400, "multiple-authorization", "Several Authorization headers", "Send exactly one Authorization header.", null);
    public static readonly Problem OrgNotMember = new(403, "not-a-member", "Not a member of the organisation", "The selected organisation is not one of the caller's organisations.", null);
    public static readonly Problem OrgRequired = new(403, "organisation-required", "Organisation required", "This route needs an organisation: select one with the 'X-Select-Org' header.", null);
    public static readonly Problem RoleTooLow = new(403, "insufficient-role", "Insufficient role", "The caller's role in the selected organisation is below the role this route requires.", null);
    public static readonly Problem TooManyInvalidTokens = new(429, "too-many-invalid-tokens", "Too many invalid session tokens", "This client presented too many unknown, revoked or expired session tokens. Retry after the number of seconds in 'Retry-After'; valid sessions the gateway already knows are not affected.", null);
    public static readonly Problem ValidationUnavailable = new(503, "session-validation-unavailable", "Session validation unavailable", "The session could not be validated right now. Retry shortly.", null);
    public static readonly Problem AmbiguousPath = new(400, "ambiguous-path", "Ambiguous request path", "The path holds an encoded slash or backslash, a '%' left after decoding, a control character or a dot segment with ';' parameters. Send the plain path.", null);
    public static readonly Problem AmbiguousLoginBody = new(400, "ambiguous-login-body", "Ambiguous login body", "A login or registration body must be one UTF-8 JSON object naming the 'email' property at most once, in any letter case.", null);
    public static readonly Problem ConnectionSpecificHeader = new(400, "connection-specific-header", "Malformed HTTP/2 request", "HTTP/2 and HTTP/3 requests must not carry Connection, Keep-Alive, Proxy-Connection, Transfer-Encoding or Upgrade, nor a TE other than 'trailers' (RFC 9113 section 8.2.2).", null);
    public static readonly Problem InternalNotFound = new(404, "not-found", "Not found", "No route matches this path.", null);

    public sealed class Problem
    {
        public Problem(int status, string type, string title, string detail, string? wwwAuthenticate)
        {
            Status = status;
            Type = TypePrefix + type;
            WwwAuthenticate = wwwAuthenticate;
            Body = Encoding.UTF8.GetBytes(
                $"{{\"type\":\"{Type}\",\"title\":\"{title}\",\"status\":{status},\"detail\":\"{detail.Replace("\"", "\\\"")}\"}}");
        }

        public int Status { get; }
        public string Type { get; }
        public string? WwwAuthenticate { get; }
        public byte[] Body { get; }

        public Task WriteAsync(HttpContext context)
        {
            var response = context.Response;
            response.StatusCode = Status;
            response.ContentType = "application/problem+json";
            response.ContentLength = Body.Length;
            if (WwwAuthenticate is not null) response.Headers.WWWAuthenticate = WwwAuthenticate;
            return response.Body.WriteAsync(Body, context.RequestAborted).AsTask();
        }
    }
}
