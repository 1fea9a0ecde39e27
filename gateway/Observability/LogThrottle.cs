using System.Collections.Concurrent;

namespace Gateway.Observability;

/// <summary>
/// Bounds a log line that a request can trigger: at most N lines per key per window; the rest are only counted. The
/// first line allowed after some were dropped carries the count and how long the dropping went on, so the log says
/// "K more like this in the last T s" without a timer and without a line per request. Keys must come from a small,
/// fixed set (an enum, a configured cluster): one state per key is kept for the life of the process.
/// </summary>
/// <remarks>
/// The counts live here, not in the log: pair every throttled line with a metric, so nothing is lost when lines are
/// dropped (<c>gateway.proxy.errors</c> for the forwarder's failures).
/// </remarks>
internal sealed class LogThrottle<TKey>(TimeProvider time, int perWindow, TimeSpan window) where TKey : notnull
{
    private sealed class KeyWindow
    {
        public long WindowStart = long.MinValue;
        public int Used;
        public long Suppressed;
        public long FirstSuppressedAt;
    }

    private readonly ConcurrentDictionary<TKey, KeyWindow> _keys = new();
    private readonly long _windowTicks = window.Ticks;

    public TimeSpan Window => window;

    /// <summary>
    /// True when a line may be written. <paramref name="summary"/> tells how many lines were dropped (for this key)
    /// since the last one written, and over how long; <see cref="Suppressed.None"/> when none were.
    /// </summary>
    public bool TryAcquire(TKey key, out Suppressed summary)
    {
        summary = default;
        if (perWindow <= 0) return false;
        var state = _keys.GetOrAdd(key, static _ => new KeyWindow());
        long now = time.GetUtcNow().UtcTicks;
        lock (state)
        {
            if (state.WindowStart == long.MinValue || now - state.WindowStart >= _windowTicks)
            {
                state.WindowStart = now;
                state.Used = 0;
            }
            if (state.Used >= perWindow)
            {
                if (state.Suppressed++ == 0) state.FirstSuppressedAt = now;
                return false;
            }
            state.Used++;
            if (state.Suppressed > 0)
            {
                summary = new Suppressed(state.Suppressed, TimeSpan.FromTicks(now - state.FirstSuppressedAt));
                state.Suppressed = 0;
            }
            return true;
        }
    }

    /// <summary>Lines dropped before the one now allowed: <see cref="Count"/> of them, over <see cref="Over"/>.</summary>
    public readonly record struct Suppressed(long Count, TimeSpan Over)
    {
        public static Suppressed None => default;
    }
}
