using StackExchange.Redis;

namespace Gateway.Redis;

/// <summary>
/// The gateway's only door to Redis. Every call is time-boxed; after a failure the client is "down" and answers
/// <see cref="RedisReply{T}.Unavailable"/> at once (no I/O) until a background probe sees Redis again.
/// Kept small so the gateway's Redis users share one breaker and one multiplexer.
/// </summary>
internal interface IRedisClient
{
    /// <summary>False while Redis is known to be down (the breaker is open).</summary>
    bool IsAvailable { get; }

    /// <summary>Raised with the new availability whenever it changes.</summary>
    event Action<bool>? AvailabilityChanged;

    ValueTask<RedisReply<string?>> GetStringAsync(string key);
    ValueTask<RedisReply<byte[]?>> GetBytesAsync(string key);
    ValueTask<RedisReply<bool>> SetAsync(string key, string value, TimeSpan ttl);
    ValueTask<RedisReply<bool>> SetAsync(string key, byte[] value, TimeSpan ttl);
    ValueTask<RedisReply<long>> DeleteAsync(string key);
    ValueTask<RedisReply<RedisResult>> EvaluateAsync(LuaScript script, string[] keys, RedisValue[] args);
    ValueTask<RedisReply<RedisResult>> EvaluateAsync(string script, RedisKey[] keys, RedisValue[] args);
    ValueTask<RedisReply<bool>> SetAddAsync(string key, string member, TimeSpan ttl);
    ValueTask<RedisReply<string[]>> SetMembersAsync(string key);
    ValueTask<RedisReply<long>> PublishAsync(string channel, string message);

    /// <summary>Subscribes; the library re-subscribes by itself after a reconnect.</summary>
    Task SubscribeAsync(string channel, Action<string> onMessage);

    /// <summary>True while every channel subscribed through this client is subscribed on a connected connection.</summary>
    bool IsSubscriptionConnected { get; }

    /// <summary>Redis is available, every channel asked for is subscribed, and no message can have been lost since the
    /// subscription was last whole.</summary>
    bool RevocationsCanArrive => IsAvailable;

    /// <summary>The subscription is whole again after a lost connection (messages were lost in between).</summary>
    event Action? SubscriptionRestored { add { } remove { } }

    /// <summary>
    /// The client's multiplexer once created, for libraries that take one (the output-cache package's Redis store), so
    /// the process keeps one connection pair to Redis. Callers should go through this client's breaker
    /// (<see cref="IsAvailable"/>, <see cref="ReportFailure"/>): the multiplexer itself has none.
    /// </summary>
    Task<IConnectionMultiplexer> GetMultiplexerAsync();

    /// <summary>
    /// A call made on <see cref="GetMultiplexerAsync"/>'s multiplexer failed or timed out: opens the breaker as this
    /// client's own failures do, so every Redis user degrades at once and the probe closes it again.
    /// </summary>
    void ReportFailure(Exception exception);
}

/// <summary>A Lua script and its text; evaluated with EVAL (the script cache makes the text cost small).</summary>
internal sealed record LuaScript(string Text);
