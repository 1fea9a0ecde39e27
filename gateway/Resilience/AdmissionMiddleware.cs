using Gateway.Pipeline;
using Microsoft.Extensions.Primitives;

namespace Gateway.Resilience;

/// <summary>
/// Admits a classified request: a slot of its tier (<see cref="TierLoadShedder"/>: 503 when the tier is full, 429 when
/// its client already holds its share of a busy tier) and its class's deadline (<see cref="RequestDeadline"/>). Runs
/// after classification and before sessions, so the deadline also bounds session introspection.
/// <para>
/// Both are held until the request ends. When request telemetry timed the request (every client request), its frame,
/// which waits for the request's end anyway, releases them (<see cref="AdmissionHold"/>): a proxied request resumes one
/// async frame fewer (docs/performance.md, "Nineteenth pass"). Requests telemetry does not time release them in a
/// frame of their own here.
/// </para>
/// </summary>
internal sealed class AdmissionMiddleware(RequestDelegate next, TierLoadShedder shedder)
{
    public Task Invoke(HttpContext context)
    {
        var feature = GatewayRequestFeature.Of(context);
        var slot = shedder.SlotOf(feature?.Tier);
        int stripe = 0;
        if (slot is not null)
        {
            stripe = shedder.StripeOf(context);
            switch (slot.TryEnter(stripe))
            {
                case TierSlot.Admission.TierFull: return shedder.ShedAsync(context, slot);
                case TierSlot.Admission.ClientOverShare: return shedder.RefuseClientAsync(context, slot);
            }
        }
        var deadline = RequestDeadline.Start(context);
        if (slot is null && deadline is null) return next(context);
        var hold = new AdmissionHold(slot, stripe, deadline);
        if (feature is null) return InvokeAsync(context, null, hold);
        // Kept on the feature, where a stream hands its slot back once it is open (StreamAnsweredTransformProvider), and released by
        // RequestTelemetryMiddleware's frame, or by this one for requests telemetry does not time.
        feature.Admission = hold;
        return feature.Telemetry is not null ? next(context) : InvokeAsync(context, feature, hold);
    }

    /// <summary>The frame of a request telemetry does not time: the hold is the feature's when there is one.</summary>
    private async Task InvokeAsync(HttpContext context, GatewayRequestFeature? feature, AdmissionHold hold)
    {
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when ((feature?.Admission ?? hold).TimedOut(context))
        {
            AdmissionHold.AnswerTimeout(context);
        }
        finally
        {
            if (feature is not null)
            {
                hold = feature.Admission;
                feature.Admission = default;
            }
            hold.Release(context);
        }
    }
}

/// <summary>
/// What admission holds for a request until it ends: the tier's slot (and the client's stripe of it) and the class's
/// deadline. Released exactly once, by whichever frame waits for the request's end (<see cref="AdmissionMiddleware"/>).
/// </summary>
internal readonly struct AdmissionHold(TierSlot? slot, int stripe, RequestDeadline? deadline)
{
    public bool IsEmpty => slot is null && deadline is null;

    /// <summary>
    /// A stage before the proxy (session introspection, say) ran out of the class's time and nothing was sent yet: the
    /// gateway answers 504, as ASP.NET Core's request-timeouts middleware does. The proxy stage maps its own cancellations
    /// (ProxyStage).
    /// </summary>
    public bool TimedOut(HttpContext context) => deadline is { Expired: true } && !context.Response.HasStarted;

    /// <summary>
    /// The 504, with what a stage had set cleared except the headers every gateway answer carries: the request id (to
    /// find the request in the logs), the route class, and HSTS on TLS.
    /// </summary>
    public static void AnswerTimeout(HttpContext context)
    {
        var headers = context.Response.Headers;
        var kept = new StringValues[KeptHeaders.Length];
        for (int i = 0; i < KeptHeaders.Length; i++) kept[i] = headers[KeptHeaders[i]];
        context.Response.Clear();
        context.Response.StatusCode = StatusCodes.Status504GatewayTimeout;
        for (int i = 0; i < KeptHeaders.Length; i++)
            if (kept[i].Count > 0) headers[KeptHeaders[i]] = kept[i];
    }

    private static readonly string[] KeptHeaders =
    [
        Observability.RequestTelemetryMiddleware.RequestIdHeader, Routing.RouteClassificationMiddleware.HeaderName,
        Microsoft.Net.Http.Headers.HeaderNames.StrictTransportSecurity,
    ];

    public void Release(HttpContext context)
    {
        deadline?.End(context);
        slot?.Exit(stripe);
    }

    /// <summary>Whether this hold takes a slot of its tier.</summary>
    public bool HoldsSlot => slot is not null;

    /// <summary>Gives the tier's slot back now and returns what is still held (the deadline), to be released at the end.</summary>
    public AdmissionHold ReleaseSlot()
    {
        slot?.Exit(stripe);
        return new AdmissionHold(null, 0, deadline);
    }
}
