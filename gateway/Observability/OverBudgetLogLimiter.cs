using System.Collections.Concurrent;

namespace Gateway.Observability;

/// <summary>
/// Allows at most N over-budget log lines per tier per window, counting what it suppressed so the next line allowed
/// can say how many were dropped. A slow period then costs a few lines, not one per request.
/// </summary>
internal sealed class OverBudgetLogLimiter(TimeProvider time, int perWindow, TimeSpan window)
{
    private sealed class TierWindow
    {
        public long WindowStart;
        public int Used;
        public long Suppressed;
    }

    private readonly ConcurrentDictionary<string, TierWindow> _tiers = new(StringComparer.Ordinal);
    private readonly long _windowTicks = window.Ticks;

    /// <summary>True when a line may be written; <paramref name="suppressed"/> is how many were dropped before it.</summary>
    public bool TryAcquire(string tier, out long suppressed)
    {
        suppressed = 0;
        if (perWindow <= 0) return false;
        var state = _tiers.GetOrAdd(tier, static _ => new TierWindow());
        long now = time.GetUtcNow().UtcTicks;
        lock (state)
        {
            if (now - state.WindowStart >= _windowTicks)
            {
                state.WindowStart = now;
                state.Used = 0;
            }
            if (state.Used >= perWindow)
            {
                state.Suppressed++;
                return false;
            }
            state.Used++;
            suppressed = state.Suppressed;
            state.Suppressed = 0;
            return true;
        }
    }
}
