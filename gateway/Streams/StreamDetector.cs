using Microsoft.AspNetCore.Http.Features;

namespace Gateway.Streams;

/// <summary>
/// Tells a stream from an ordinary request by what the client sent, before anything is proxied: every request passes
/// here, so the ordinary path costs a content-type prefix check, one typed feature lookup and the Accept header, and
/// allocates nothing.
/// </summary>
internal static class StreamDetector
{
    private const string GrpcContentType = "application/grpc";   // also application/grpc+proto, application/grpc-web
    private const string EventStreamMediaType = "text/event-stream";

    public static StreamKind Detect(HttpContext context)
    {
        var request = context.Request;
        if (request.ContentType is { } contentType && contentType.StartsWith(GrpcContentType, StringComparison.OrdinalIgnoreCase))
            return StreamKind.Grpc;
        if (HttpMethods.IsConnect(request.Method))
            return context.Features.Get<IHttpExtendedConnectFeature>()?.IsExtendedConnect == true ? StreamKind.WebSocket : StreamKind.None;
        // Kestrel calls any request with "Connection: upgrade" upgradable; only a WebSocket's is a stream (the refusals
        // stage removed other Upgrade values, so those are plain requests under the class's timeout).
        if (context.Features.Get<IHttpUpgradeFeature>()?.IsUpgradableRequest == true
            && Pipeline.ProtocolRefusalsMiddleware.IsWebSocketUpgrade(request.Headers.Upgrade)) return StreamKind.WebSocket;
        // Every EventSource sends this Accept; a client that does not is an ordinary request under the class's timeout.
        var accept = request.Headers.Accept;
        for (int i = 0; i < accept.Count; i++)
            if (accept[i] is { } value && value.Contains(EventStreamMediaType, StringComparison.OrdinalIgnoreCase)) return StreamKind.EventStream;
        return StreamKind.None;
    }

    /// <summary>The metric/log tag of a kind.</summary>
    public static string Name(StreamKind kind) => kind switch
    {
        StreamKind.WebSocket => "websocket",
        StreamKind.Grpc => "grpc",
        StreamKind.EventStream => "sse",
        _ => "none",
    };
}
