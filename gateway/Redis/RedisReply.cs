namespace Gateway.Redis;

/// <summary>
/// The outcome of one Redis call. <see cref="Ok"/> is false when Redis is down, stalled past the time-box or
/// failed: callers degrade (cache miss, local limiter) instead of catching exceptions on the hot path.
/// </summary>
internal readonly record struct RedisReply<T>(bool Ok, T? Value)
{
    public static readonly RedisReply<T> Unavailable = new(false, default);
}
