using System.Text;
using System.Text.Json;
using Gateway.Observability;
using Gateway.Redis;
using StackExchange.Redis;

namespace Gateway.Tests.Observability;

/// <summary>
/// <c>redis.healthy</c> in <c>/gateway/status</c> is false while revocations cannot arrive (the subscription is down or
/// was broken), not only while Redis is unavailable: it said true then, and a check keyed on it saw nothing wrong.
/// </summary>
public sealed class RedisStatusTests
{
    [Theory]
    [InlineData(true, true, true, true)]
    [InlineData(true, false, false, false)]   // available, subscription lost
    [InlineData(true, true, false, false)]    // subscription back, but a message may have been lost meanwhile
    [InlineData(false, false, false, false)]
    public void Healthy_IsWhetherRevocationsCanArrive(bool available, bool subscribed, bool canArrive, bool healthy)
    {
        var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
            new RedisStatusContributor(new StubRedis(available, subscribed, canArrive)).WriteStatus(writer);
        using var status = JsonDocument.Parse(Encoding.UTF8.GetString(stream.ToArray()));

        Assert.Equal(healthy, status.RootElement.GetProperty("healthy").GetBoolean());
        Assert.Equal(available, status.RootElement.GetProperty("available").GetBoolean());
        Assert.Equal(subscribed, status.RootElement.GetProperty("subscriptionConnected").GetBoolean());
    }

    private sealed class StubRedis(bool available, bool subscribed, bool canArrive) : IRedisClient
    {
        public bool IsAvailable => available;
        public bool IsSubscriptionConnected => subscribed;
        public bool RevocationsCanArrive => canArrive;
        public ValueTask<RedisReply<string?>> GetStringAsync(string key) => throw new NotSupportedException();
        public ValueTask<RedisReply<byte[]?>> GetBytesAsync(string key) => throw new NotSupportedException();
        public ValueTask<RedisReply<bool>> SetAsync(string key, string value, TimeSpan ttl) => throw new NotSupportedException();
        public ValueTask<RedisReply<bool>> SetAsync(string key, byte[] value, TimeSpan ttl) => throw new NotSupportedException();
        public ValueTask<RedisReply<long>> DeleteAsync(string key) => throw new NotSupportedException();
        public ValueTask<RedisReply<RedisResult>> EvaluateAsync(Gateway.Redis.LuaScript script, string[] keys, RedisValue[] args) => throw new NotSupportedException();
        public ValueTask<RedisReply<RedisResult>> EvaluateAsync(string script, RedisKey[] keys, RedisValue[] args) => throw new NotSupportedException();
        public ValueTask<RedisReply<bool>> SetAddAsync(string key, string member, TimeSpan ttl) => throw new NotSupportedException();
        public ValueTask<RedisReply<string[]>> SetMembersAsync(string key) => throw new NotSupportedException();
        public ValueTask<RedisReply<long>> PublishAsync(string channel, string message) => throw new NotSupportedException();
        public Task SubscribeAsync(string channel, Action<string> onMessage) => throw new NotSupportedException();
        public Task<IConnectionMultiplexer> GetMultiplexerAsync() => throw new NotSupportedException();
        public void ReportFailure(Exception exception) { }
        public event Action<bool>? AvailabilityChanged { add { } remove { } }
    }
}
