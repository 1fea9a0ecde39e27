using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http.Timeouts;

namespace Gateway.Resilience;

/// <summary>
/// The route class's timeout (<c>timeoutMs</c>, carried by YARP as the route's <see cref="RequestTimeoutAttribute"/>):
/// <see cref="HttpContext.RequestAborted"/> is cancelled when it passes, which ends the backend call, and
/// <see cref="IHttpRequestTimeoutFeature"/> tells the proxy stage it was the deadline (a 504), not the client.
/// It does what ASP.NET Core's request-timeouts middleware does for these routes, at less cost per request: that one
/// links a new token source, a timer, a closure and a registration per request; here the token sources (with their
/// timers) are pooled and reset, as YARP pools its own activity-timeout sources. Work that outlives its request must not
/// keep using <see cref="HttpContext.RequestAborted"/> (true of any pooled context state): the source serves a later request.
/// </summary>
internal sealed class RequestDeadlineMiddleware(RequestDelegate next)
{
    private const int PoolLimit = 1024;
    private static readonly ConcurrentQueue<Deadline> Pool = new();

    public Task Invoke(HttpContext context)
    {
        var timeout = context.GetEndpoint()?.Metadata.GetMetadata<RequestTimeoutAttribute>()?.Timeout;
        if (timeout is not { } limit || limit <= TimeSpan.Zero) return next(context);

        var deadline = Pool.TryDequeue(out var pooled) ? pooled : new Deadline();
        deadline.Start(context, limit);
        return InvokeAsync(context, deadline);
    }

    private async Task InvokeAsync(HttpContext context, Deadline deadline)
    {
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.Expired && !context.Response.HasStarted)
        {
            // A stage before the proxy (session introspection, say) ran out of the class's time: the gateway's 504, as
            // ASP.NET Core's middleware answers. The proxy stage maps its own cancellations (ProxyPipeline).
            context.Response.Clear();
            context.Response.StatusCode = StatusCodes.Status504GatewayTimeout;
        }
        finally
        {
            if (deadline.End(context) && Pool.Count < PoolLimit) Pool.Enqueue(deadline);
        }
    }

    /// <summary>One request's deadline: a reusable token source linked to the client's abort token.</summary>
    private sealed class Deadline : IHttpRequestTimeoutFeature
    {
        private CancellationTokenSource _source = new();
        private CancellationTokenRegistration _clientAbort;
        private CancellationToken _original;

        public CancellationToken RequestTimeoutToken => _source.Token;

        /// <summary>The deadline passed (the client is still there).</summary>
        public bool Expired => _source.IsCancellationRequested && !_original.IsCancellationRequested;

        public void DisableTimeout() => _source.CancelAfter(Timeout.InfiniteTimeSpan);

        public void Start(HttpContext context, TimeSpan limit)
        {
            _original = context.RequestAborted;
            _clientAbort = _original.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), _source);
            _source.CancelAfter(limit);
            context.Features.Set<IHttpRequestTimeoutFeature>(this);
            context.RequestAborted = _source.Token;
        }

        /// <summary>Restores the request; true when this object can serve another request.</summary>
        public bool End(HttpContext context)
        {
            _clientAbort.Dispose();
            context.RequestAborted = _original;
            context.Features.Set<IHttpRequestTimeoutFeature>(null);
            _original = default;
            if (_source.TryReset()) return true;
            _source.Dispose();   // it fired: a cancelled source cannot be reused
            _source = new CancellationTokenSource();
            return true;
        }
    }
}
