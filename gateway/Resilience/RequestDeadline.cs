using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http.Timeouts;

namespace Gateway.Resilience;

/// <summary>
/// One request's class timeout (<c>timeoutMs</c>, carried by YARP as the route's <see cref="RequestTimeoutAttribute"/>):
/// <see cref="HttpContext.RequestAborted"/> is cancelled when it passes, which ends the backend call, and
/// <see cref="IHttpRequestTimeoutFeature"/> tells the proxy stage it was the deadline (a 504), not the client.
/// It does what ASP.NET Core's request-timeouts middleware does for these routes, at less cost per request: that one
/// links a new token source, a timer, a closure and a registration per request; here the token sources (with their
/// timers) are pooled and reset, as YARP pools its own activity-timeout sources. Work that outlives its request must not
/// keep using <see cref="HttpContext.RequestAborted"/> (true of any pooled context state): the source serves a later request.
/// Started by <see cref="AdmissionMiddleware"/>; ended when the request ends, by request telemetry's frame when it timed
/// the request, else by admission's own (<see cref="AdmissionHold"/>).
/// </summary>
internal sealed class RequestDeadline : IHttpRequestTimeoutFeature
{
    private const int PoolLimit = 1024;
    private static readonly ConcurrentQueue<RequestDeadline> Pool = new();

    private CancellationTokenSource _source = new();
    private CancellationTokenRegistration _clientAbort;
    private CancellationToken _original;

    /// <summary>Starts the deadline of the matched route; null when the route has none (the gateway's own endpoints).</summary>
    public static RequestDeadline? Start(HttpContext context)
    {
        var timeout = context.GetEndpoint()?.Metadata.GetMetadata<RequestTimeoutAttribute>()?.Timeout;
        if (timeout is not { } limit || limit <= TimeSpan.Zero) return null;
        var deadline = Pool.TryDequeue(out var pooled) ? pooled : new RequestDeadline();
        deadline.Begin(context, limit);
        return deadline;
    }

    public CancellationToken RequestTimeoutToken => _source.Token;

    /// <summary>The deadline passed (the client is still there).</summary>
    public bool Expired => _source.IsCancellationRequested && !_original.IsCancellationRequested;

    public void DisableTimeout() => _source.CancelAfter(Timeout.InfiniteTimeSpan);

    private void Begin(HttpContext context, TimeSpan limit)
    {
        _original = context.RequestAborted;
        _clientAbort = _original.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), _source);
        _source.CancelAfter(limit);
        context.Features.Set<IHttpRequestTimeoutFeature>(this);
        context.RequestAborted = _source.Token;
    }

    /// <summary>Restores the request and returns this object to the pool.</summary>
    public void End(HttpContext context)
    {
        _clientAbort.Dispose();
        context.RequestAborted = _original;
        context.Features.Set<IHttpRequestTimeoutFeature>(null);
        _original = default;
        if (!_source.TryReset())
        {
            _source.Dispose();   // it fired: a cancelled source cannot be reused
            _source = new CancellationTokenSource();
        }
        if (Pool.Count < PoolLimit) Pool.Enqueue(this);
    }
}
