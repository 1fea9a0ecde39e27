using Gateway.Redis;

namespace Gateway.RateLimiting;

/// <summary>
/// The Lua scripts behind the distributed limiter. Each touches one key, so it is atomic and Redis-Cluster safe.
/// The time comes from the gateway (ARGV[1], Unix ms from <see cref="TimeProvider"/>) rather than Redis <c>TIME</c>:
/// tests can drive it, at the cost that instances with skewed clocks disagree by the skew about window edges.
/// Both return <c>{allowed (0/1), remaining, retryAfterMs, resetAfterMs}</c>.
/// </summary>
internal static class RateLimitScripts
{
    /// <summary>
    /// Sliding window approximated by two fixed windows: estimate = previous × (unelapsed fraction) + current.
    /// ARGV: nowMs, windowMs, limit.
    /// </summary>
    public static readonly LuaScript SlidingWindow = new("""
        local now = tonumber(ARGV[1])
        local window = tonumber(ARGV[2])
        local limit = tonumber(ARGV[3])
        local cur = math.floor(now / window)
        local curCount = tonumber(redis.call('HGET', KEYS[1], cur) or '0')
        local prevCount = tonumber(redis.call('HGET', KEYS[1], cur - 1) or '0')
        local elapsed = now - cur * window
        local estimate = prevCount * (window - elapsed) / window + curCount
        local resetAfter = window - elapsed
        if estimate + 1 > limit then
          local retry = resetAfter
          if curCount + 1 <= limit and prevCount > 0 then
            retry = math.ceil(window - (limit - curCount - 1) * window / prevCount) - elapsed
          end
          if retry < 1 then retry = 1 end
          return {0, 0, retry, resetAfter}
        end
        redis.call('HINCRBY', KEYS[1], cur, 1)
        for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
          if tonumber(field) < cur - 1 then redis.call('HDEL', KEYS[1], field) end
        end
        redis.call('PEXPIRE', KEYS[1], window * 2)
        return {1, math.floor(limit - estimate - 1), 0, resetAfter}
        """);

    /// <summary>
    /// GCRA: the key holds the theoretical arrival time (TAT) in microseconds since <see cref="GcraEpoch"/>.
    /// ARGV: nowUs, emissionIntervalUs (window / limit, fractional), burst. Returns milliseconds like the other script.
    /// Microseconds from a recent epoch keep the TAT below 2^53 with sub-microsecond resolution, so an interval well
    /// under a millisecond (a limit above 1,000 per second) accumulates exactly; milliseconds since 1970 could not.
    /// The key lives 1 s past its TAT: a TAT in the past reads as "now", so the slack changes no decision, while an
    /// expiry of a millisecond or two would race Redis's own clock against the gateway's.
    /// </summary>
    public static readonly LuaScript Gcra = new("""
        local now = tonumber(ARGV[1])
        local interval = tonumber(ARGV[2])
        local burst = tonumber(ARGV[3])
        local tat = tonumber(redis.call('GET', KEYS[1]) or ARGV[1])
        if tat < now then tat = now end
        local tolerance = interval * burst
        local newTat = tat + interval
        local allowAt = newTat - tolerance
        if now < allowAt then
          return {0, 0, math.ceil((allowAt - now) / 1000), math.ceil((tat - now) / 1000)}
        end
        redis.call('SET', KEYS[1], string.format('%.3f', newTat), 'PX', math.ceil((newTat - now) / 1000) + 1000)
        return {1, math.floor((tolerance - (newTat - now)) / interval), 0, math.ceil((newTat - now) / 1000)}
        """);

    /// <summary>Time origin of the GCRA script's microsecond clock (any fixed instant in the recent past works).</summary>
    public static readonly DateTimeOffset GcraEpoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Smallest emission interval: one million requests per second per key.</summary>
    public const double MinIntervalUs = 1.0;
}
