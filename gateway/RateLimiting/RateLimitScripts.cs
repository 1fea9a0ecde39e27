using Gateway.Redis;

namespace Gateway.RateLimiting;

/// <summary>
/// The Lua scripts behind the distributed limiter. Each touches one key, so it is atomic and Redis-Cluster safe.
/// The time comes from the gateway (ARGV[1], from <see cref="TimeProvider"/>) rather than Redis <c>TIME</c>:
/// tests can drive it, at the cost that instances with skewed clocks disagree by the skew about window edges (for the
/// sliding window, only towards admitting less: see <see cref="SlidingWindow"/>).
/// Both are lease scripts: they take up to <c>want</c> tokens at once for one instance (1 is exactly the old
/// one-request check) and return <c>{granted, remaining, retryAfterUs, resetAfterUs, ...}</c>; granted 0 is a rejection.
/// The stored values are unchanged (leased tokens are counted like admitted requests), so the keys keep their versions
/// and gateways that lease and gateways that do not can share them during a rolling deploy.
/// </summary>
internal static class RateLimitScripts
{
    /// <summary>
    /// Sliding window approximated by two fixed windows: estimate = previous × (unelapsed fraction) + current.
    /// ARGV: nowMs, windowMs, limit, want. Grants <c>min(want, floor(limit − estimate))</c> tokens into the current
    /// window; they are valid only until that window ends (<c>resetAfterUs</c>), because they are counted in it.
    /// A rejection's retry is when <c>want</c> tokens (at most what the current window has left) will fit, so a busy
    /// instance comes back for a batch instead of for one token at a time; with want = 1 it is the old retry.
    /// <para>
    /// The window counted in is the newest the key holds when the caller's clock is behind it: an instance whose clock
    /// lagged two windows or more counted in a window the others deleted on every call (each deleted what was older
    /// than its own previous window) and so was granted a fresh batch each time, without bound. Now a lagging instance
    /// counts in the others' window, from its start (the most conservative estimate), so skew can only under-admit:
    /// after the instances ahead stop, for at most the skew, until its clock reaches their last window.
    /// </para>
    /// </summary>
    public static readonly LuaScript SlidingWindow = new("""
        local now = tonumber(ARGV[1])
        local window = tonumber(ARGV[2])
        local limit = tonumber(ARGV[3])
        local want = tonumber(ARGV[4])
        local cur = math.floor(now / window)
        local fields = redis.call('HKEYS', KEYS[1])
        for _, field in ipairs(fields) do
          local n = tonumber(field)
          if n > cur then cur = n end
        end
        local curCount = tonumber(redis.call('HGET', KEYS[1], cur) or '0')
        local prevCount = tonumber(redis.call('HGET', KEYS[1], cur - 1) or '0')
        local elapsed = now - cur * window
        if elapsed < 0 then elapsed = 0 end
        local estimate = prevCount * (window - elapsed) / window + curCount
        local resetAfter = window - elapsed
        local granted = math.min(want, math.floor(limit - estimate))
        if granted < 1 then
          local retry = resetAfter
          local k = math.min(want, limit - curCount)
          if k >= 1 and prevCount > 0 then
            retry = math.ceil(window - (limit - curCount - k) * window / prevCount) - elapsed
          end
          if retry < 1 then retry = 1 end
          return {0, 0, retry * 1000, resetAfter * 1000}
        end
        redis.call('HINCRBY', KEYS[1], cur, granted)
        for _, field in ipairs(fields) do
          if tonumber(field) < cur - 1 then redis.call('HDEL', KEYS[1], field) end
        end
        redis.call('PEXPIRE', KEYS[1], window * 2)
        return {granted, math.floor(limit - estimate - granted), 0, resetAfter * 1000}
        """);

    /// <summary>
    /// GCRA: the key holds the theoretical arrival time (TAT) in microseconds since <see cref="GcraEpoch"/>.
    /// ARGV: nowUs, emissionIntervalUs (window / limit, fractional), burst, want, offsetUs.
    /// A lease of g tokens starts at <c>base = max(TAT, now)</c>, moved up to <c>now + offsetUs</c> where the bucket has room
    /// beyond the g tokens (an instance that uses its lease slower than the emission interval asks for that, so its tokens
    /// live long enough to be used); it moves the TAT to <c>base + g × interval</c>. Token k (from 0) is the request that
    /// would have seen TAT <c>base + k × interval</c>: the instance may use it only while now ≤ that TAT, which keeps every
    /// admitted request GCRA-conforming at the moment it is admitted (no over-admission in any interval).
    /// A rejection's retry is when <c>want</c> tokens will conform (the old single-token retry when want = 1).
    /// Returns a fifth element, <c>base</c> as a string (Redis truncates Lua numbers to integers).
    /// Microseconds from a recent epoch keep the TAT below 2^53 with sub-microsecond resolution, so an interval well
    /// under a millisecond (a limit above 1,000 per second) accumulates exactly; milliseconds since 1970 could not.
    /// The key lives 1 s past its TAT: a TAT in the past reads as "now", so the slack changes no decision, while an
    /// expiry of a millisecond or two would race Redis's own clock against the gateway's.
    /// </summary>
    public static readonly LuaScript Gcra = new("""
        local now = tonumber(ARGV[1])
        local interval = tonumber(ARGV[2])
        local burst = tonumber(ARGV[3])
        local want = tonumber(ARGV[4])
        local offset = tonumber(ARGV[5])
        local tat = tonumber(redis.call('GET', KEYS[1]) or ARGV[1])
        if tat < now then tat = now end
        local tolerance = interval * burst
        local base = now + offset
        local room = now + tolerance - want * interval
        if base > room then base = room end
        if base < tat then base = tat end
        local granted = math.min(want, math.floor((now + tolerance - base) / interval))
        while granted < want and base + (granted + 1) * interval - tolerance <= now do granted = granted + 1 end
        while granted > 0 and base + granted * interval - tolerance > now do granted = granted - 1 end
        if granted < 1 then
          return {0, 0, math.ceil(tat + math.min(want, burst) * interval - tolerance - now), math.ceil(tat - now)}
        end
        local newTat = base + granted * interval
        redis.call('SET', KEYS[1], string.format('%.3f', newTat), 'PX', math.ceil((newTat - now) / 1000) + 1000)
        return {granted, math.floor((tolerance - (newTat - now)) / interval), 0, math.ceil(newTat - now), string.format('%.3f', base)}
        """);

    /// <summary>Time origin of the limiter's microsecond clock (any fixed instant in the recent past works).</summary>
    public static readonly DateTimeOffset GcraEpoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Smallest emission interval: one million requests per second per key.</summary>
    public const double MinIntervalUs = 1.0;
}
