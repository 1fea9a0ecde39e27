using System.Buffers;
using System.Text.Json;
using Gateway.Contracts;

namespace Gateway.Pipeline;

/// <summary>
/// The gateway's one writer of RFC 9457 problem responses, with the shared <see cref="ProblemTypes"/>. Fixed problems
/// are pre-encoded, so writing one allocates nothing; the few with a per-request detail are encoded when written.
/// </summary>
internal static class GatewayProblems
{
    public static readonly Problem MissingToken = new(401, ProblemTypes.Unauthenticated, "Authentication required", "Send a session token as 'Authorization: Bearer <token>' or in the 'session' cookie.", "Bearer");
    public static readonly Problem InvalidToken = new(401, ProblemTypes.InvalidToken, "Invalid session", "The session token is malformed, unknown, revoked or expired.", "Bearer error=\"invalid_token\"");
    public static readonly Problem MultipleAuthorization = new(400, ProblemTypes.MultipleAuthorization, "Several Authorization headers", "Send exactly one Authorization header.", null);
    public static readonly Problem OrgNotMember = new(403, ProblemTypes.NotAMember, "Not a member of the organisation", "The selected organisation is not one of the caller's organisations.", null);
    public static readonly Problem OrgRequired = new(403, ProblemTypes.OrganisationRequired, "Organisation required", "This route needs an organisation: select one with the 'X-Select-Org' header.", null);
    public static readonly Problem OrgConflict = new(400, ProblemTypes.OrganisationConflict, "Conflicting organisation", "The 'X-Select-Org' header names another organisation than the path's '/orgs/{id}': leave the header out, or send the path's id.", null);
    public static readonly Problem RoleTooLow = new(403, ProblemTypes.InsufficientRole, "Insufficient role", "The caller's role in the selected organisation is below the role this route requires.", null);
    public static readonly Problem TooManyInvalidTokens = new(429, ProblemTypes.TooManyInvalidTokens, "Too many invalid session tokens", "This client presented too many unknown, revoked or expired session tokens. Retry after the number of seconds in 'Retry-After'; valid sessions the gateway already knows are not affected.", null);
    public static readonly Problem ValidationUnavailable = new(503, ProblemTypes.SessionValidationUnavailable, "Session validation unavailable", "The session could not be validated right now. Retry shortly.", null);
    public static readonly Problem CsrfOriginMismatch = new(403, ProblemTypes.CsrfOriginMismatch, "Cross-site request refused", "A state-changing request authenticated by the session cookie must come from an allowed origin, and this one's Origin (or Referer) header is missing or not allowed. Send it from the application's page, or authenticate with 'Authorization: Bearer <token>'.", null);
    public static readonly Problem InvalidSessionCookieRequest = new(400, ProblemTypes.InvalidSessionCookieRequest, "Invalid X-Session-Cookie header", "Send 'X-Session-Cookie: 1' once to receive the session in an HttpOnly cookie instead of the response body, or leave the header out.", null);
    public static readonly Problem AmbiguousPath = new(400, ProblemTypes.AmbiguousPath, "Ambiguous request path", "The path holds an encoded slash or backslash, a '%' left after decoding, a control character or a dot segment with ';' parameters. Send the plain path.", null);
    public static readonly Problem AmbiguousLoginBody = new(400, ProblemTypes.AmbiguousLoginBody, "Ambiguous login body", "A login or registration body must be one UTF-8 JSON object naming the 'email' property at most once, in any letter case.", null);
    public static readonly Problem ConnectionSpecificHeader = new(400, ProblemTypes.ConnectionSpecificHeader, "Malformed HTTP/2 request", "HTTP/2 and HTTP/3 requests must not carry Connection, Keep-Alive, Proxy-Connection, Transfer-Encoding or Upgrade, nor a TE other than 'trailers' (RFC 9113 section 8.2.2).", null);
    /// <summary>An HTTP/2 WebSocket (extended CONNECT) the backend answered with a 2xx that is not an accepted upgrade (RefusedWebSocketTransformProvider).</summary>
    public static readonly Problem WebSocketNotAccepted = new(400, ProblemTypes.WebSocketNotAccepted, "WebSocket not served here", "The backend answered this WebSocket request (HTTP/2 extended CONNECT) without accepting it: this path serves no WebSocket. Send a plain request, or open the WebSocket on a path that serves one.", null);
    /// <summary>A WebSocket opening without a well-formed key or version 13 (ProtocolRefusalsMiddleware), answered with <c>Sec-WebSocket-Version: 13</c>.</summary>
    public static readonly Problem BadWebSocketHandshake = new(400, ProblemTypes.BadWebSocketHandshake, "Bad WebSocket handshake", "A WebSocket opening needs 'Sec-WebSocket-Version: 13' and, over HTTP/1.1, a 'Sec-WebSocket-Key' of 16 random bytes in base64 (RFC 6455 section 4.1); over HTTP/2 a key may be left out.", null);
    public static readonly Problem UnsupportedConnect = new(400, ProblemTypes.UnsupportedConnect, "CONNECT not supported", "The gateway tunnels nothing: it accepts CONNECT only as an HTTP/2 or HTTP/3 WebSocket (extended CONNECT with ':protocol' websocket). Over HTTP/1.1 open a WebSocket with a GET and 'Upgrade: websocket'.", null);
    /// <summary>Routing's 405 (a route matches the path, not the method), with the Allow header routing set (MethodNotAllowedProblem).</summary>
    public static readonly Problem MethodNotAllowed = new(405, ProblemTypes.MethodNotAllowed, "Method not allowed", "A route matches this path but does not serve this method; the Allow header lists the methods it serves.", null);
    /// <summary>TRACE or TRACK (ProtocolRefusalsMiddleware): never forwarded with the signed identity headers.</summary>
    public static readonly Problem TraceNotAllowed = new(405, ProblemTypes.TraceNotAllowed, "TRACE not allowed", "The gateway does not forward TRACE (or TRACK): a backend's echo would show the identity headers the gateway adds. Use the X-Request-Id of a normal request to follow it through the logs.", null);
    public static readonly Problem AmbiguousRequest = new(400, ProblemTypes.AmbiguousRequest, "Request matches two routes", "This request satisfies the conditions of two routes that no rank separates (a header given several values, each selecting a different route). Send one value.", null);
    public static readonly Problem TooManyUploads = new(429, ProblemTypes.TooManyUploads, "Too many uploads in flight", "This client is already streaming as many request bodies to the backends as one client may (Forwarding:MaxStreamedBodiesPerClient). Finish or cancel one, then retry.", null);
    public static readonly Problem UriTooLong = new(414, ProblemTypes.UriTooLong, "Request target too long", "The path and query, escaped as the gateway forwards them, are longer than 8,192 characters. Send long data in a request body.", null);
    public static readonly Problem BodyTooLarge = new(413, ProblemTypes.BodyTooLarge, "Request body too large", "The request body is larger than this route accepts.", null);
    public static readonly Problem RequestBodyTimeout = new(408, ProblemTypes.RequestBodyTimeout, "Request body too slow", "The request body did not arrive within the time this route allows. Send the whole body at once, or retry.", null);
    /// <summary>
    /// A path no route matches or a backend <c>/internal</c> path (which does not exist on the edge, whichever route it came
    /// through), the operator paths on the public listener, and anything else than them on the operator listener.
    /// </summary>
    public static readonly Problem NotFound = new(404, ProblemTypes.NotFound, "Not found", "No route matches this path.", null);
    /// <summary>Tier load shedding.</summary>
    public static readonly Problem Overloaded = new(503, ProblemTypes.Overloaded, "The gateway is overloaded.", "Too many requests of this tier are in flight. Retry after the number of seconds in 'Retry-After'.", null);
    public static readonly Problem TooManyInFlight = new(429, ProblemTypes.TooManyInFlight, "Too many requests in flight", "This client already has its share of this tier's requests in flight while the tier is busy. Retry after the number of seconds in 'Retry-After', or wait for your requests to finish.", null);

    /// <summary>The problem JSON: <c>type</c>, <c>title</c>, <c>status</c>, <c>detail</c> and optionally one extension member.</summary>
    public static byte[] Encode(string type, string title, int status, string detail, string? extensionName = null, string? extensionValue = null)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("type", type);
            json.WriteString("title", title);
            json.WriteNumber("status", status);
            json.WriteString("detail", detail);
            if (extensionName is not null) json.WriteString(extensionName, extensionValue);
            json.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes a problem whose detail depends on the request (not pre-encoded: off the hot path only).</summary>
    public static Task WriteAsync(HttpContext context, string type, string title, int status, string detail) =>
        Write(context, status, Encode(type, title, status, detail), wwwAuthenticate: null);

    /// <summary>
    /// Closes an HTTP/1.x connection after this response: the rest of an unread request body must never be parsed as a
    /// next request (Kestrel closes after its own 413 too). HTTP/2 needs nothing: the rest of the stream is discarded.
    /// </summary>
    public static void CloseAfterResponse(HttpContext context)
    {
        if (HttpProtocol.IsHttp11(context.Request.Protocol) || HttpProtocol.IsHttp10(context.Request.Protocol))
            context.Response.Headers.Connection = "close";
    }

    private static Task Write(HttpContext context, int status, byte[] body, string? wwwAuthenticate)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/problem+json";
        response.ContentLength = body.Length;
        if (wwwAuthenticate is not null) response.Headers.WWWAuthenticate = wwwAuthenticate;
        // Not RequestAborted: within a class's deadline that token is the deadline's, and a problem answering the deadline
        // itself (408) must still be written. A few hundred bytes into Kestrel's buffer; a client that left fails the write anyway.
        return response.Body.WriteAsync(body, CancellationToken.None).AsTask();
    }

    public sealed class Problem
    {
        public Problem(int status, string type, string title, string detail, string? wwwAuthenticate)
        {
            Status = status;
            Type = type;
            WwwAuthenticate = wwwAuthenticate;
            Body = Encode(type, title, status, detail);
        }

        public int Status { get; }
        public string Type { get; }
        public string? WwwAuthenticate { get; }
        public byte[] Body { get; }

        public Task WriteAsync(HttpContext context) => Write(context, Status, Body, WwwAuthenticate);
    }
}
