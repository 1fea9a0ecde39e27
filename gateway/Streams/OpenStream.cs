using Gateway.Routing;

namespace Gateway.Streams;

/// <summary>
/// One open stream: who opened it (session, user, organisation, class) and how to end it. Closing aborts the client's
/// connection (HTTP/1.1) or stream (HTTP/2): after an upgrade YARP copies raw bytes, so the gateway cannot put a
/// WebSocket close frame or an SSE event between them without corrupting a frame the upstream is writing.
/// </summary>
internal sealed class OpenStream(HttpContext context, StreamKind kind, RouteClass routeClass, string? sessionHash, string? userId,
    string? orgId, StreamCounts counts, DateTimeOffset openedAt, string? routeId = null)
{
    // Kestrel reuses HttpContext objects for later requests: once the stream ended, Abort must not reach its context.
    private readonly Lock _gate = new();
    private bool _ended;

    public StreamKind Kind { get; } = kind;
    public RouteClass RouteClass { get; } = routeClass;
    /// <summary>The route it opened through: a reload that removes it, or changes what its class requires, closes it.</summary>
    public string? RouteId { get; } = routeId;
    /// <summary>Token hash (lowercase hex) of the session that opened it; null on anonymous classes.</summary>
    public string? SessionHash { get; } = sessionHash;
    public string? UserId { get; } = userId;
    /// <summary>The organisation the session selected when opening it (checked again on revalidation).</summary>
    public string? OrgId { get; } = orgId;
    /// <summary>Whose open-stream counts it takes a place in (<c>Streams:MaxPerUser</c>, <c>MaxPerAddress</c>).</summary>
    public StreamCounts Counts { get; } = counts;
    public DateTimeOffset OpenedAt { get; } = openedAt;
    /// <summary>Why the gateway closed it; null while open or when it ended by itself.</summary>
    public string? ClosedBecause { get; private set; }

    /// <summary>Aborts the stream unless it already ended or was closed; true when this call closed it.</summary>
    public bool Close(string reason)
    {
        lock (_gate)
        {
            if (_ended || ClosedBecause is not null) return false;
            ClosedBecause = reason;
            context.Abort();
            return true;
        }
    }

    /// <summary>The request finished: from now on <see cref="Close"/> does nothing.</summary>
    public void End()
    {
        lock (_gate) _ended = true;
    }
}
