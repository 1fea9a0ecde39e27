using Gateway.Contracts;
using Gateway.Pipeline;
using Gateway.Routing;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.Extensions.Options;

namespace Gateway.Streams;

/// <summary>
/// After session validation: a WebSocket, gRPC call or event stream is taken off the class's request timeout (the
/// cluster's idle timeout bounds it instead), kept out of response buffering, and registered under its session so a
/// revocation or shutdown can close it. Ordinary requests pass with one <see cref="StreamDetector"/> check.
/// </summary>
internal sealed class StreamMiddleware(RequestDelegate next, StreamRegistry registry, IOptions<StreamOptions> options,
    RateLimiting.ClientIpResolver? clientIp = null)
{
    private static readonly GatewayProblems.Problem ShuttingDown = new(503, ProblemTypes.ShuttingDown, "Shutting down",
        "This gateway instance is shutting down and opens no new streams. Reconnect; another instance will answer.", null);
    private static readonly GatewayProblems.Problem TooManyStreams = new(429, ProblemTypes.TooManyStreams, "Too many open streams",
        "This user or address already has as many WebSockets and event streams open on this gateway as allowed. Close one, then retry.", null);
    private readonly int _maxPerUser = options.Value.MaxPerUser;
    private readonly int _maxPerAddress = options.Value.MaxPerAddress;

    public Task Invoke(HttpContext context)
    {
        var kind = StreamDetector.Detect(context);
        if (kind == StreamKind.None) return next(context);
        return InvokeStreamAsync(context, kind);
    }

    private async Task InvokeStreamAsync(HttpContext context, StreamKind kind)
    {
        if (registry.Draining)
        {
            context.Response.Headers.RetryAfter = "1";
            if (context.Request.Protocol == "HTTP/1.1") context.Response.Headers.Connection = "close";
            await ShuttingDown.WriteAsync(context).ConfigureAwait(false);
            return;
        }
        var feature = GatewayRequestFeature.Of(context);
        if (feature?.Class is not { } routeClass) { await next(context).ConfigureAwait(false); return; }   // not a proxied route
        var stream = registry.TryRegister(context, feature, kind, routeClass, CountsOf(context, feature, kind), _maxPerUser, _maxPerAddress);
        if (stream is null)
        {
            context.Response.Headers.RetryAfter = "1";
            await TooManyStreams.WriteAsync(context).ConfigureAwait(false);
            return;
        }

        try
        {
            // A stream lives as long as both ends want it: the class's timeoutMs would cut it mid-way, the cluster's idle
            // timeout (YARP's activity timeout) applies instead. The feature is replaced by one without a deadline: the
            // deadline's token also fires when the client leaves, and the proxy stage would take a stream that ended before
            // its response began (a client cancelling, a revocation) for a backend timeout, answer 504 and count it on the
            // cluster's breaker. (Replaced, not removed: YARP refuses a route with a timeout but no timeout feature.)
            if (context.Features.Get<IHttpRequestTimeoutFeature>() is { } deadline)
            {
                deadline.DisableTimeout();
                context.Features.Set<IHttpRequestTimeoutFeature>(NoDeadline.Instance);
            }
            // Events and messages must reach the client as the upstream flushes them, and a stream is never a cacheable
            // answer (the response cache stage, next, resolves its policy from this feature).
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            feature.CachePolicy = null;
            // The tier's slot bounds work in flight: it is held while the upstream has not answered the opening, and handed
            // back once it has (the 101, the event stream's or the call's headers). Held for the stream's life, 256 open
            // WebSockets filled a standard tier, and every other request of the tier got 503 while they sat idle.
            if (feature.Admission.HoldsSlot) context.Response.OnStarting(ReleaseTierSlot, context);
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            registry.Unregister(stream);
        }
    }

    /// <summary>
    /// Whose counts a stream takes a place in: its user's and its address's (an IPv6 client's network). gRPC calls are not
    /// counted: every unary call is one, and they share HTTP/2 connections that Kestrel bounds per connection.
    /// </summary>
    private StreamCounts CountsOf(HttpContext context, GatewayRequestFeature feature, StreamKind kind) => kind == StreamKind.Grpc
        ? StreamCounts.None
        : new(feature.Principal?.UserId is { Length: > 0 } user ? "user:" + user : null,
            "ip:" + (clientIp?.PartitionKey(context) ?? context.Connection.RemoteIpAddress?.ToString() ?? "unknown"));

    /// <summary>
    /// Hands the tier's slot back when the upstream answered as a stream: a 101, a 2xx to an HTTP/2 WebSocket's CONNECT,
    /// an event stream or a gRPC response. What the client declared is not enough: an ordinary GET sent with
    /// <c>Accept: text/event-stream</c> would otherwise leave the tier's bound while its body is still being made.
    /// </summary>
    private static readonly Func<object, Task> ReleaseTierSlot = static state =>
    {
        var context = (HttpContext)state;
        if (GatewayRequestFeature.Of(context) is { } feature && AnsweredAsStream(context)) feature.Admission = feature.Admission.ReleaseSlot();
        return Task.CompletedTask;
    };

    private static bool AnsweredAsStream(HttpContext context)
    {
        var response = context.Response;
        if (response.StatusCode == StatusCodes.Status101SwitchingProtocols) return true;
        if (response.StatusCode is < 200 or > 299) return false;
        if (HttpMethods.IsConnect(context.Request.Method)) return true;   // an HTTP/2 WebSocket the upstream accepted
        return response.ContentType is { } type
            && (type.StartsWith("text/event-stream", StringComparison.OrdinalIgnoreCase) || type.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The timeout feature of a stream: there is no deadline, so it never fires.</summary>
    private sealed class NoDeadline : IHttpRequestTimeoutFeature
    {
        public static readonly NoDeadline Instance = new();
        public CancellationToken RequestTimeoutToken => CancellationToken.None;
        public void DisableTimeout() { }
    }
}
