using System.Buffers;
using System.Text.Json;
using Gateway.Pipeline;
using Gateway.Routing;
using Gateway.Trust;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Transforms;

namespace Gateway.Browsers;

/// <summary>
/// The session cookie on a login route. The backend answers the token in JSON, as it does for every client; when the
/// client asks (<c>X-Session-Cookie: 1</c>, or always with <c>Sessions:Cookie:IssueOnLogin=Always</c>) the gateway moves
/// it into an HttpOnly cookie and takes it out of the body, so no script ever holds it, and marks the answer
/// <c>no-store</c>. Asking for the cookie is a cookie-authenticating act, so it passes the same CSRF origin check first
/// (login CSRF: another site logging the browser into the attacker's account), before the backend sees the password.
/// </summary>
internal sealed partial class LoginCookie(SessionCookie cookie, CsrfOriginCheck csrf, TimeProvider time, ILogger<LoginCookie> logger)
{
    public const string RequestHeader = "X-Session-Cookie";
    /// <summary>A login answer is a token, an expiry and a user: anything near this size is not one.</summary>
    private const int MaxBodyBytes = 64 * 1024;
    private static readonly object RequestedKey = new();

    public ValueTask OnRequestAsync(RequestTransformContext context)
    {
        var http = context.HttpContext;
        var header = http.Request.Headers[RequestHeader];
        bool wanted = cookie.IssueMode == CookieIssueMode.Always;
        if (header.Count > 0)
        {
            string? value = header.Count == 1 ? header[0] : null;
            if (value == "1" || string.Equals(value, "true", StringComparison.OrdinalIgnoreCase)) wanted = true;
            else if (value != "0" && !string.Equals(value, "false", StringComparison.OrdinalIgnoreCase))
                return new(GatewayProblems.InvalidSessionCookieRequest.WriteAsync(http));   // a written answer stops the proxying
        }
        context.ProxyRequest.Headers.Remove(RequestHeader);
        if (!wanted) return default;

        var cls = GatewayRequestFeature.Of(http)?.Class;
        if (cls is not null && !csrf.Allows(http, cls)) return new(GatewayProblems.CsrfOriginMismatch.WriteAsync(http));
        http.Items[RequestedKey] = RequestedKey;
        return default;
    }

    public async ValueTask OnResponseAsync(ResponseTransformContext context)
    {
        var http = context.HttpContext;
        if (!http.Items.ContainsKey(RequestedKey) || context.ProxyResponse is not { } answer || (int)answer.StatusCode != StatusCodes.Status200OK) return;
        if (answer.Content.Headers.ContentLength is > MaxBodyBytes) return;

        byte[] body = await answer.Content.ReadAsByteArrayAsync(http.RequestAborted).ConfigureAwait(false);
        // The body is consumed now: from here on the gateway writes it, rewritten or as it came.
        context.SuppressResponseBody = true;
        var response = http.Response;
        response.Headers.CacheControl = "no-store";
        byte[] output = body;
        if (body.Length <= MaxBodyBytes && TryRewrite(body, out var token, out var expiresAt, out var rewritten))
        {
            TimeSpan? maxAge = expiresAt is { } e ? e - time.GetUtcNow() : null;
            response.Headers.Append(HeaderNames.SetCookie, cookie.IssueValue(token, maxAge));
            output = rewritten;
        }
        else Log.NoTokenInLogin(logger, http.Request.Path.Value ?? "");
        response.ContentLength = output.Length;
        await response.Body.WriteAsync(output, http.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>The body without its <c>token</c> member, every other member as it came; false unless a well-formed token is there.</summary>
    internal static bool TryRewrite(byte[] body, out string token, out DateTimeOffset? expiresAt, out byte[] rewritten)
    {
        token = "";
        expiresAt = null;
        rewritten = body;
        JsonDocument doc;
        try { doc = JsonDocument.Parse(body); }
        catch (JsonException) { return false; }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("token", out var t) || t.ValueKind != JsonValueKind.String
                || t.GetString() is not { } value || !SessionToken.IsWellFormed(value)) return false;
            token = value;
            if (root.TryGetProperty("expiresAt", out var e) && e.ValueKind == JsonValueKind.String && e.TryGetDateTimeOffset(out var at)) expiresAt = at;
            var buffer = new ArrayBufferWriter<byte>(body.Length);
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                foreach (var p in root.EnumerateObject())
                    if (p.Name != "token") p.WriteTo(json);
                json.WriteEndObject();
            }
            rewritten = buffer.WrittenSpan.ToArray();
            return true;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(6001, LogLevel.Warning, "Login answer on {Path} holds no well-formed token; passed on unchanged, no session cookie set.", EventName = "LoginCookieNoToken")]
        public static partial void NoTokenInLogin(ILogger logger, string path);
    }
}
