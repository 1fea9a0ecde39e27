using Gateway.RateLimiting;
using Gateway.Redis;
using Gateway.Tests.PolicyTesting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using TestInfrastructure;

namespace Gateway.Tests.RateLimiting;

/// <summary>
/// A request waiting for Redis in the limiter (fetching its partition's lease, or waiting for another request's fetch)
/// stops waiting when its token fires (the class's deadline, the client leaving), and that never disturbs the others:
/// the fetch goes on for the requests waiting on it, and a request that left makes no Redis call afterwards.
/// </summary>
public sealed class LeaseWaitTests(RedisFixture redis) : IAsyncLifetime
{
    private RedisClient _client = null!;
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero));

    public async ValueTask InitializeAsync() => _client = await TestRedis.ConnectAsync(redis.ConnectionString, timeoutMs: 5000);
    public ValueTask DisposeAsync() => _client.DisposeAsync();

    private RedisRateLimiter Limiter(IRedisClient client) =>
        new(client, Options.Create(new RateLimitingOptions { InstanceCount = 1 }), _clock, NullLogger<RedisRateLimiter>.Instance);

    private static RateLimitRule Rule() =>
        new("wait-" + Guid.NewGuid().ToString("N"), RateLimitAlgorithm.SlidingWindow, 100, TimeSpan.FromHours(1), null, RateLimitPartition.Ip);

    [Fact]
    public async Task TheFetcherLeaving_StopsOnlyItsOwnWait_TheWaiterGetsItsAnswer()
    {
        var gated = new GatedRedisClient(_client);
        using var limiter = Limiter(gated);
        var rule = Rule();
        using var leaving = new CancellationTokenSource();

        var fetcher = limiter.AcquireAsync(rule, "ip:10.0.0.1", leaving.Token).AsTask();
        var waiter = limiter.AcquireAsync(rule, "ip:10.0.0.1", CancellationToken.None).AsTask();
        await gated.Held.Task.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        leaving.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => fetcher.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken));
        Assert.False(waiter.IsCompleted);
        gated.Open();
        var decision = await waiter.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        Assert.True(decision.Allowed);
        Assert.False(limiter.InFallback);
    }

    [Fact]
    public async Task AWaiterLeaving_StopsWaitingAtOnce_AndMakesNoRedisCallAfterwards()
    {
        var gated = new GatedRedisClient(_client);
        using var limiter = Limiter(gated);
        var rule = Rule();
        using var leaving = new CancellationTokenSource();

        var fetcher = limiter.AcquireAsync(rule, "ip:10.0.0.2", CancellationToken.None).AsTask();
        await gated.Held.Task.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        var waiter = limiter.AcquireAsync(rule, "ip:10.0.0.2", leaving.Token).AsTask();
        leaving.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiter.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken));
        gated.Open();
        Assert.True((await fetcher.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken)).Allowed);
        await Task.Delay(100, TestContext.Current.CancellationToken);   // a waiter that went on would fetch again now
        Assert.Equal(1, gated.Evaluations);
    }

    /// <summary>Holds every script call until <see cref="Open"/>: a Redis that answers late.</summary>
    private sealed class GatedRedisClient(IRedisClient inner) : IRedisClient
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _evaluations;
        public TaskCompletionSource Held { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Evaluations => Volatile.Read(ref _evaluations);
        public void Open() => _gate.TrySetResult();

        public ValueTask<RedisReply<RedisResult>> EvaluateAsync(string script, RedisKey[] keys, RedisValue[] args) => Gated(script, keys, args);
        public ValueTask<RedisReply<RedisResult>> EvaluateAsync(Gateway.Redis.LuaScript script, string[] keys, RedisValue[] args) =>
            Gated(script.Text, [.. keys.Select(k => (RedisKey)k)], args);

        private async ValueTask<RedisReply<RedisResult>> Gated(string script, RedisKey[] keys, RedisValue[] args)
        {
            Interlocked.Increment(ref _evaluations);
            Held.TrySetResult();
            await _gate.Task.ConfigureAwait(false);
            return await inner.EvaluateAsync(script, keys, args).ConfigureAwait(false);
        }

        public bool IsAvailable => inner.IsAvailable;
        public event Action<bool>? AvailabilityChanged { add => inner.AvailabilityChanged += value; remove => inner.AvailabilityChanged -= value; }
        public bool IsSubscriptionConnected => inner.IsSubscriptionConnected;
        public bool RevocationsCanArrive => inner.RevocationsCanArrive;
        public event Action? SubscriptionRestored { add => inner.SubscriptionRestored += value; remove => inner.SubscriptionRestored -= value; }
        public ValueTask<RedisReply<string?>> GetStringAsync(string key) => inner.GetStringAsync(key);
        public ValueTask<RedisReply<byte[]?>> GetBytesAsync(string key) => inner.GetBytesAsync(key);
        public ValueTask<RedisReply<bool>> SetAsync(string key, string value, TimeSpan ttl) => inner.SetAsync(key, value, ttl);
        public ValueTask<RedisReply<bool>> SetAsync(string key, byte[] value, TimeSpan ttl) => inner.SetAsync(key, value, ttl);
        public ValueTask<RedisReply<long>> DeleteAsync(string key) => inner.DeleteAsync(key);
        public ValueTask<RedisReply<bool>> SetAddAsync(string key, string member, TimeSpan ttl) => inner.SetAddAsync(key, member, ttl);
        public ValueTask<RedisReply<string[]>> SetMembersAsync(string key) => inner.SetMembersAsync(key);
        public ValueTask<RedisReply<long>> PublishAsync(string channel, string message) => inner.PublishAsync(channel, message);
        public Task SubscribeAsync(string channel, Action<string> onMessage) => inner.SubscribeAsync(channel, onMessage);
        public Task<IConnectionMultiplexer> GetMultiplexerAsync() => inner.GetMultiplexerAsync();
        public void ReportFailure(Exception exception) => inner.ReportFailure(exception);
    }
}
