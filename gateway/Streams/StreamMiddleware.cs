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
        "This client already has as many WebSockets, gRPC calls and event streams open on this gateway as one client may. Close one, then retry.", null);
    private readonly int _maxPerClient = options.Value.MaxPerClient;

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
        var stream = registry.TryRegister(context, feature, kind, routeClass, ClientKeyOf(context, feature), _maxPerClient);
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
            if (feature.Admission.HoldsSlot) context.Response.OnStarting(ReleaseTierSlot, feature);
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            registry.Unregister(stream);
        }
    }

    /// <summary>Whom a stream counts for: the session's user, else the client's address (an IPv6 client's network).</summary>
    private string ClientKeyOf(HttpContext context, GatewayRequestFeature feature) =>
        feature.Principal?.UserId is { Length: > 0 } user ? "user:" + user
            : "ip:" + (clientIp?.PartitionKey(context) ?? context.Connection.RemoteIpAddress?.ToString() ?? "unknown");

    private static readonly Func<object, Task> ReleaseTierSlot = static state =>
    {
        var feature = (GatewayRequestFeature)state;
        feature.Admission = feature.Admission.ReleaseSlot();
        return Task.CompletedTask;
    };

    /// <summary>The timeout feature of a stream: there is no deadline, so it never fires.</summary>
    private sealed class NoDeadline : IHttpRequestTimeoutFeature
    {
        public static readonly NoDeadline Instance = new();
        public CancellationToken RequestTimeoutToken => CancellationToken.None;
        public void DisableTimeout() { }
    }
}
