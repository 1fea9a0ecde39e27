using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Backend.Users;

/// <summary>
/// Fixed-window failure counters keyed by normalised email and by client IP. In-process only: the gateway's
/// distributed rate limiter covers several backend instances. Memory is bounded by <see cref="LoginThrottleOptions.MaxTrackedKeys"/>.
/// </summary>
internal sealed partial class LoginThrottle(IOptions<LoginThrottleOptions> options, TimeProvider time, ILogger<LoginThrottle> logger)
{
    private sealed class Counter { public long WindowStart; public int Failures; }
    private readonly ConcurrentDictionary<string, Counter> _counters = new(StringComparer.Ordinal);
    private readonly LoginThrottleOptions _o = options.Value;

    /// <summary>How long the caller must wait, or null when the attempt may proceed.</summary>
    public TimeSpan? RetryAfter(string normalizedEmail, string? ip)
    {
        long now = time.GetUtcNow().UtcTicks;
        var a = Blocked("a:" + normalizedEmail, _o.MaxFailuresPerAccount, now);
        var b = ip is null ? null : Blocked("ip:" + ip, _o.MaxFailuresPerIp, now);
        return a is null ? b : b is null ? a : (a > b ? a : b);
    }

    public void RecordFailure(string normalizedEmail, string? ip)
    {
        long now = time.GetUtcNow().UtcTicks;
        Increment("a:" + normalizedEmail, now);
        if (ip is not null) Increment("ip:" + ip, now);
    }

    public void RecordSuccess(string normalizedEmail) => _counters.TryRemove("a:" + normalizedEmail, out _);

    private TimeSpan? Blocked(string key, int max, long now)
    {
        if (!_counters.TryGetValue(key, out var c)) return null;
        lock (c)
        {
            long end = c.WindowStart + _o.Window.Ticks;
            if (now >= end || c.Failures < max) return null;
            return TimeSpan.FromTicks(end - now);
        }
    }

    private void Increment(string key, long now)
    {
        if (!_counters.TryGetValue(key, out var c))
        {
            if (_counters.Count >= _o.MaxTrackedKeys) Sweep(now);
            if (_counters.Count >= _o.MaxTrackedKeys) { Log.Full(logger, _o.MaxTrackedKeys); return; }
            c = _counters.GetOrAdd(key, static _ => new Counter());
        }
        lock (c)
        {
            if (now >= c.WindowStart + _o.Window.Ticks) { c.WindowStart = now; c.Failures = 0; }
            c.Failures++;
        }
    }

    private void Sweep(long now)
    {
        foreach (var (key, c) in _counters)
            if (now >= c.WindowStart + _o.Window.Ticks) _counters.TryRemove(key, out _);
    }

    private static partial class Log
    {
        [LoggerMessage(4001, LogLevel.Warning, "Login throttle is tracking {Max} keys; new keys are not counted until windows expire", EventName = "LoginThrottleFull")]
        public static partial void Full(ILogger logger, int max);
    }
}
