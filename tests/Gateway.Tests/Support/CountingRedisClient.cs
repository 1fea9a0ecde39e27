using Gateway.Redis;
using StackExchange.Redis;

namespace Gateway.Tests.Support;

/// <summary>Counts session-key lookups and script calls, so a test can prove a request never reached Redis.</summary>
internal sealed class CountingRedisClient(IRedisClient inner) : IRedisClient
{
    private int _sessionReads;
    private int _evaluations;
    public int SessionReads => Volatile.Read(ref _sessionReads);
    public int Evaluations => Volatile.Read(ref _evaluations);

    public bool IsAvailable => inner.IsAvailable;
    public event Action<bool>? AvailabilityChanged { add => inner.AvailabilityChanged += value; remove => inner.AvailabilityChanged -= value; }
    public bool IsSubscriptionConnected => inner.IsSubscriptionConnected;
    public bool RevocationsCanArrive => inner.RevocationsCanArrive;
    public event Action? SubscriptionRestored { add => inner.SubscriptionRestored += value; remove => inner.SubscriptionRestored -= value; }

    public ValueTask<RedisReply<string?>> GetStringAsync(string key)
    {
        if (key.StartsWith("gw:v1:session:", StringComparison.Ordinal)) Interlocked.Increment(ref _sessionReads);
        return inner.GetStringAsync(key);
    }

    public ValueTask<RedisReply<byte[]?>> GetBytesAsync(string key) => inner.GetBytesAsync(key);
    public ValueTask<RedisReply<bool>> SetAsync(string key, string value, TimeSpan ttl) => inner.SetAsync(key, value, ttl);
    public ValueTask<RedisReply<bool>> SetAsync(string key, byte[] value, TimeSpan ttl) => inner.SetAsync(key, value, ttl);
    public ValueTask<RedisReply<long>> DeleteAsync(string key) => inner.DeleteAsync(key);
    public ValueTask<RedisReply<RedisResult>> EvaluateAsync(Gateway.Redis.LuaScript script, string[] keys, RedisValue[] args)
    {
        Interlocked.Increment(ref _evaluations);
        return inner.EvaluateAsync(script, keys, args);
    }

    public ValueTask<RedisReply<RedisResult>> EvaluateAsync(string script, RedisKey[] keys, RedisValue[] args)
    {
        Interlocked.Increment(ref _evaluations);
        return inner.EvaluateAsync(script, keys, args);
    }
    public ValueTask<RedisReply<bool>> SetAddAsync(string key, string member, TimeSpan ttl) => inner.SetAddAsync(key, member, ttl);
    public ValueTask<RedisReply<string[]>> SetMembersAsync(string key) => inner.SetMembersAsync(key);
    public Task<IConnectionMultiplexer> GetMultiplexerAsync() => inner.GetMultiplexerAsync();
    public void ReportFailure(Exception exception) => inner.ReportFailure(exception);
    public ValueTask<RedisReply<long>> PublishAsync(string channel, string message) => inner.PublishAsync(channel, message);
    public Task SubscribeAsync(string channel, Action<string> onMessage) => inner.SubscribeAsync(channel, onMessage);
}
