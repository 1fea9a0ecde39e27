namespace Gateway.Streams;

/// <summary>What kind of long-lived exchange a request opens; <see cref="None"/> for every ordinary request.</summary>
internal enum StreamKind : byte
{
    None,
    /// <summary>An HTTP/1.1 upgrade (WebSocket or any other protocol) or an HTTP/2 extended CONNECT.</summary>
    WebSocket,
    /// <summary>A gRPC call (<c>application/grpc*</c>): unary or streaming, it cannot be told apart from the request.</summary>
    Grpc,
    /// <summary>Server-sent events: the client asked for <c>text/event-stream</c>.</summary>
    EventStream,
}
