using Gateway.Pipeline;

namespace Gateway.Resilience;

/// <summary>
/// Admits a classified request: a slot of its tier (<see cref="TierLoadShedder"/>: 503 when the tier is full, 429 when
/// its client already holds its share of a busy tier) and its
/// class's deadline (<see cref="RequestDeadline"/>). One stage with one async frame for both, where two middlewares
/// each resumed their own frame on every proxied request (docs/performance.md, "Third pass"). Runs after classification
/// and before sessions, so the deadline also bounds session introspection.
/// </summary>
internal sealed class AdmissionMiddleware(RequestDelegate next, TierLoadShedder shedder)
{
    public Task Invoke(HttpContext context)
    {
        var slot = shedder.SlotOf(GatewayRequestFeature.Of(context)?.Tier);
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
        return InvokeAsync(context, slot, stripe, deadline);
    }

    private async Task InvokeAsync(HttpContext context, TierSlot? slot, int stripe, RequestDeadline? deadline)
    {
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline is { Expired: true } && !context.Response.HasStarted)
        {
            // A stage before the proxy (session introspection, say) ran out of the class's time: the gateway's 504, as
            // ASP.NET Core's middleware answers. The proxy stage maps its own cancellations (ProxyStage).
            context.Response.Clear();
            context.Response.StatusCode = StatusCodes.Status504GatewayTimeout;
        }
        finally
        {
            deadline?.End(context);
            slot?.Exit(stripe);
        }
    }
}
