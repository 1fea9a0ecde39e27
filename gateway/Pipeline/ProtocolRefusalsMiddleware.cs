using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Pipeline;

/// <summary>
/// Requests the gateway refuses by their method or framing, before routing, sessions and the backend:
/// <list type="bullet">
/// <item>HTTP/2 and HTTP/3 requests that carry connection-specific header fields (RFC 9113 §8.2.2: such a request is
/// malformed). Kestrel lets <c>Transfer-Encoding</c> through on HTTP/2; forwarded to an HTTP/1.1 backend it is the raw
/// material of request smuggling (HTTP/2 downgrade attacks): 400 <c>connection-specific-header</c>.</item>
/// <item>A CONNECT that is not a WebSocket (extended CONNECT, :protocol websocket), on every protocol: the gateway is
/// no tunnel. 400 <c>unsupported-connect</c>.</item>
/// <item><c>TRACE</c> (and IIS's <c>TRACK</c>), on every protocol: 405 <c>trace-not-allowed</c>. Forwarded, a TRACE
/// reached the backend with the gateway's signed identity headers, and a backend that echoes it as RFC 9110 §9.3.8
/// describes showed the client its identity headers and the gateway's signature (cross-site tracing); nginx and cloud
/// load balancers refuse it the same way.</item>
/// </list>
/// <item>A path and query longer than <see cref="MaxForwardedTarget"/> once escaped as the forwarder escapes them: 414
/// <c>uri-too-long</c> (<see cref="ForwardedTargetTooLong"/>).</item>
/// <item>A WebSocket opening whose handshake is malformed (<see cref="IsWellFormedWebSocketOpening"/>): 400
/// <c>bad-websocket-handshake</c> with <c>Sec-WebSocket-Version: 13</c>, for every cluster alike.</item>
/// An HTTP/1.1 upgrade other than a WebSocket is not refused but ignored (<see cref="IgnoreUpgradesOtherThanWebSocket"/>).
/// An HTTP/1.x GET pays the protocol check, two method checks that fail on the method's length and one header lookup.
/// </summary>
internal sealed class ProtocolRefusalsMiddleware(RequestDelegate next)
{
    private static readonly string[] Forbidden = ["Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Upgrade"];

    public Task Invoke(HttpContext context)
    {
        var request = context.Request;
        if (IsTrace(request.Method)) return GatewayProblems.TraceNotAllowed.WriteAsync(context);
        if (ForwardedTargetTooLong(request)) return GatewayProblems.UriTooLong.WriteAsync(context);
        if (!HttpProtocol.IsHttp2(request.Protocol) && !HttpProtocol.IsHttp3(request.Protocol))
        {
            if (!HttpMethods.IsConnect(request.Method))
            {
                if (IgnoreUpgradesOtherThanWebSocket(request) && context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true }
                    && !IsWellFormedWebSocketOpening(request.Headers, keyRequired: true))
                    return RefuseWebSocketOpening(context);
                return next(context);
            }
            // HTTP/1.x has no extended CONNECT (its WebSockets are an upgrade GET), so every CONNECT is a tunnel request.
            // Kestrel passes one with an origin- or absolute-form target to the app, where a route matched it and YARP
            // failed it (RequestCreation): 502, a Warning with its stack trace, counted as the backend's failure; with an
            // authority-form target it fell through to an empty 404. Closed after the answer: a tunnel client may already
            // be sending its tunnel's bytes, which must never be parsed as a next request.
            GatewayProblems.CloseAfterResponse(context);
            return GatewayProblems.UnsupportedConnect.WriteAsync(context);
        }
        var headers = request.Headers;
        foreach (var name in Forbidden)
            if (headers.ContainsKey(name)) return GatewayProblems.ConnectionSpecificHeader.WriteAsync(context);
        // CONNECT other than a WebSocket (RFC 8441 extended CONNECT with :protocol websocket): YARP cannot forward it
        // (RequestCreation, "Unsupported request method 'CONNECT'"), which answered 502 with a Warning and its stack trace.
        if (HttpMethods.IsConnect(request.Method)
            && !string.Equals(context.Features.Get<IHttpExtendedConnectFeature>()?.Protocol, "websocket", StringComparison.OrdinalIgnoreCase))
            return GatewayProblems.UnsupportedConnect.WriteAsync(context);
        if (HttpMethods.IsConnect(request.Method) && !IsWellFormedWebSocketOpening(headers, keyRequired: false))
            return RefuseWebSocketOpening(context);
        var te = headers.TE;
        if (te.Count > 0 && (te.Count > 1 || !string.Equals(te[0], "trailers", StringComparison.OrdinalIgnoreCase)))
            return GatewayProblems.ConnectionSpecificHeader.WriteAsync(context);
        return next(context);
    }

    /// <summary>
    /// An HTTP/1.1 upgrade to anything but a WebSocket (<c>SPDY/3.1</c>, <c>h2c</c>, <c>TLS/1.0</c>...) is ignored, as
    /// RFC 9110 §7.8 lets a server: the <c>Upgrade</c> header goes, and the request is proxied as the plain request it
    /// also is. Passed on, YARP failed a SPDY upgrade to an HTTP/2 cluster while building the request (an empty 502
    /// counted and logged as the backend's failure), and every upgrade was taken for a WebSocket: a stream, off the
    /// class's timeout. The gateway carries WebSockets only (docs/gateway.md, "Streams").
    /// </summary>
    /// <returns>Whether the request asks for a WebSocket upgrade.</returns>
    private static bool IgnoreUpgradesOtherThanWebSocket(HttpRequest request)
    {
        var upgrade = request.Headers.Upgrade;
        if (upgrade.Count == 0) return false;
        if (IsWebSocketUpgrade(upgrade)) return true;
        request.Headers.Upgrade = default;
        return false;
    }

    /// <summary>
    /// RFC 6455 §4.1: <c>Sec-WebSocket-Version: 13</c> and a <c>Sec-WebSocket-Key</c> that is 16 bytes in base64 (an
    /// HTTP/2 opening, RFC 8441, has no key; one sent anyway must be well formed). Passed on, YARP answered a bad key
    /// to an h2c cluster with a bare 400 and logged a Warning per request with the client's header in it (anyone could
    /// fill the log), while an HTTP/1.1 cluster got the handshake to judge: one answer at the edge for every cluster.
    /// </summary>
    internal static bool IsWellFormedWebSocketOpening(IHeaderDictionary headers, bool keyRequired)
    {
        var version = headers.SecWebSocketVersion;
        if (version.Count != 1 || version[0] != "13") return false;
        var key = headers.SecWebSocketKey;
        if (key.Count == 0) return !keyRequired;
        Span<byte> decoded = stackalloc byte[18];
        return key.Count == 1 && key[0] is { Length: 24 } text && Convert.TryFromBase64String(text, decoded, out int length) && length == 16;
    }

    /// <summary>The longest path and query the gateway forwards, escaped: what it accepts itself in a request line.</summary>
    internal const int MaxForwardedTarget = 8192;

    /// <summary>
    /// The forwarder escapes what Kestrel accepted raw (a quote, a brace, non-ASCII: up to nine characters for one), so
    /// an 8 KB target can reach the backend three or more times as long. Over the shared h2c connection a <c>:path</c>
    /// past the backend's header field limit (16 KB) made it end the connection (GOAWAY): every request in flight on
    /// it failed, 502s counted on the breaker, and a few such requests opened it for everyone. The escaped length is
    /// computed only for a target that could exceed the limit; the others pay two length reads.
    /// </summary>
    internal static bool ForwardedTargetTooLong(HttpRequest request)
    {
        string? path = request.Path.Value, query = request.QueryString.Value;
        int raw = (path?.Length ?? 0) + (query?.Length ?? 0);
        if (raw <= MaxForwardedTarget / 9) return false;
        if (raw > MaxForwardedTarget) return true;
        try
        {
            var uri = Yarp.ReverseProxy.Forwarder.RequestUtilities.MakeDestinationAddress("http://gateway", request.Path, request.QueryString);
            return uri.PathAndQuery.Length > MaxForwardedTarget;
        }
        catch (UriFormatException)
        {
            return true;   // System.Uri's own limit (65,519 characters) is past ours
        }
    }

    private static Task RefuseWebSocketOpening(HttpContext context)
    {
        context.Response.Headers.SecWebSocketVersion = "13";   // RFC 6455 §4.4: the version(s) this side speaks
        return GatewayProblems.BadWebSocketHandshake.WriteAsync(context);
    }

    /// <summary>Exactly one <c>Upgrade</c> value, <c>websocket</c> in any case (RFC 6455 §4.1).</summary>
    public static bool IsWebSocketUpgrade(Microsoft.Extensions.Primitives.StringValues upgrade) =>
        upgrade.Count == 1 && string.Equals(upgrade[0], "websocket", StringComparison.OrdinalIgnoreCase);

    // Kestrel interns the strings of known methods, so TRACE is a reference comparison; GET and POST fail on length.
    private static bool IsTrace(string method) =>
        HttpMethods.IsTrace(method) || (method.Length == 5 && string.Equals(method, "TRACK", StringComparison.OrdinalIgnoreCase));
}
