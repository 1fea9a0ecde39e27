using Gateway.Caching;
using Gateway.Redis;
using StackExchange.Redis;
using Gateway.Tests.PolicyTesting;
using Microsoft.Extensions.Logging.Abstractions;
using TestInfrastructure;

namespace Gateway.Tests.Caching;

public sealed class CacheFaultTests(RedisFixture redis)
{
    [Fact]
    public async Task RedisKilled_StoreDegradesToL1_WithoutThrowing()
    {
        var server = await RedisServer.StartAsync();
        try
        {
            await using var client = await TestRedis.ConnectAsync(server.ConnectionString);
            var store = OutputCacheStoreContractTests.NewStore(TimeProvider.System, client);
            string key = "k-" + Guid.NewGuid().ToString("N");
            await store.SetAsync(key, "cached"u8.ToArray(), ["user:x"], TimeSpan.FromMinutes(5), default);

            await server.StopAsync();
            Assert.Equal("cached"u8.ToArray(), await store.GetAsync(key, default));
            Assert.Null(await store.GetAsync(key + "-other", default));
            await store.SetAsync(key + "-new", "l1"u8.ToArray(), ["user:x"], TimeSpan.FromMinutes(5), default);
            Assert.Equal("l1"u8.ToArray(), await store.GetAsync(key + "-new", default));
            Assert.False(client.IsAvailable);
            await store.EvictByTagAsync("user:x", default);
            Assert.Null(await store.GetAsync(key, default));
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task UserDataMessage_OnTheInvalidationChannel_EvictsOnBothInstances()
    {
        await using var clientA = await TestRedis.ConnectAsync(redis.ConnectionString, 1000);
        await using var clientB = await TestRedis.ConnectAsync(redis.ConnectionString, 1000);
        var storeA = OutputCacheStoreContractTests.NewStore(TimeProvider.System, clientA);
        var storeB = OutputCacheStoreContractTests.NewStore(TimeProvider.System, clientB);
        await new ResponseCacheInvalidator(storeA, NullLogger<ResponseCacheInvalidator>.Instance).SubscribeAsync(clientA);
        await new ResponseCacheInvalidator(storeB, NullLogger<ResponseCacheInvalidator>.Instance).SubscribeAsync(clientB);

        string user = Guid.NewGuid().ToString();
        string key = "me-" + user;
        await storeA.SetAsync(key, "profile v1"u8.ToArray(), [CacheTags.User(user)], TimeSpan.FromMinutes(5), default);
        Assert.NotNull(await storeB.GetAsync(key, default)); // now also in B's L1

        string message = $$"""{"v":1,"kind":"user-data","userId":"{{user}}","reason":"profile-update","at":1763800000000}""";
        // Re-published while polling: a subscription still being set up on the server must not make the test flaky.
        await Eventually.TrueAsync(async () =>
        {
            await clientA.PublishAsync(ResponseCacheInvalidator.Channel, message);
            return await storeA.GetAsync(key, default) is null && await storeB.GetAsync(key, default) is null;
        },
            "both instances evicted the user's entry");
    }

    [Fact]
    public async Task ReadDuringAnEviction_DoesNotPutTheEvictedEntryBackIntoL1()
    {
        await using var client = await TestRedis.ConnectAsync(redis.ConnectionString, 1000);
        var pausing = new PausingRedisClient(client);
        var store = OutputCacheStoreContractTests.NewStore(TimeProvider.System, pausing);
        string user = Guid.NewGuid().ToString(), key = "me-" + user;
        await store.SetAsync(key, "stale"u8.ToArray(), [CacheTags.User(user)], TimeSpan.FromMinutes(5), default);

        // The eviction has dropped the L1 entry and is about to delete the Redis one when a read comes in.
        var eviction = store.EvictByTagAsync(CacheTags.User(user), default).AsTask();
        await pausing.DeletePaused.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("stale"u8.ToArray(), await store.GetAsync(key, default));   // still in Redis for this instant
        pausing.ReleaseDelete.SetResult();
        await eviction;

        Assert.Null(await store.GetAsync(key, default));
    }

    /// <summary>Holds the first <c>DeleteAsync</c> until the test releases it.</summary>
    private sealed class PausingRedisClient(IRedisClient inner) : IRedisClient
    {
        public readonly TaskCompletionSource DeletePaused = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly TaskCompletionSource ReleaseDelete = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool IsAvailable => inner.IsAvailable;
        public event Action<bool>? AvailabilityChanged { add => inner.AvailabilityChanged += value; remove => inner.AvailabilityChanged -= value; }
        public bool IsSubscriptionConnected => inner.IsSubscriptionConnected;
        public ValueTask<RedisReply<string?>> GetStringAsync(string key) => inner.GetStringAsync(key);
        public ValueTask<RedisReply<byte[]?>> GetBytesAsync(string key) => inner.GetBytesAsync(key);
        public ValueTask<RedisReply<bool>> SetAsync(string key, string value, TimeSpan ttl) => inner.SetAsync(key, value, ttl);
        public ValueTask<RedisReply<bool>> SetAsync(string key, byte[] value, TimeSpan ttl) => inner.SetAsync(key, value, ttl);

        public async ValueTask<RedisReply<long>> DeleteAsync(string key)
        {
            if (DeletePaused.TrySetResult()) await ReleaseDelete.Task;
            return await inner.DeleteAsync(key);
        }

        public ValueTask<RedisReply<RedisResult>> EvaluateAsync(Gateway.Redis.LuaScript script, string[] keys, RedisValue[] args) => inner.EvaluateAsync(script, keys, args);
        public ValueTask<RedisReply<RedisResult>> EvaluateAsync(string script, RedisKey[] keys, RedisValue[] args) => inner.EvaluateAsync(script, keys, args);
        public ValueTask<RedisReply<bool>> SetAddAsync(string key, string member, TimeSpan ttl) => inner.SetAddAsync(key, member, ttl);
        public ValueTask<RedisReply<string[]>> SetMembersAsync(string key) => inner.SetMembersAsync(key);
        public ValueTask<RedisReply<long>> PublishAsync(string channel, string message) => inner.PublishAsync(channel, message);
        public Task SubscribeAsync(string channel, Action<string> onMessage) => inner.SubscribeAsync(channel, onMessage);
    }

    [Fact]
    public async Task Invalidator_MapsKindsToTags_AndIgnoresUnknownKinds()
    {
        var store = OutputCacheStoreContractTests.NewStore(TimeProvider.System, redis: null);
        var invalidator = new ResponseCacheInvalidator(store, NullLogger<ResponseCacheInvalidator>.Instance);
        foreach (var k in new[] { "u", "o", "keep" })
            await store.SetAsync(k, [1], [k == "u" ? "user:1" : k == "o" ? "org:9" : "user:2"], TimeSpan.FromMinutes(1), default);

        await invalidator.HandleMessageAsync("""{"v":1,"kind":"future-kind","userId":"2"}""");
        await invalidator.HandleMessageAsync("not json");
        await invalidator.HandleMessageAsync("""{"v":1,"kind":"session","sessionHash":"ab","userId":"1"}""");
        await invalidator.HandleMessageAsync("""{"v":1,"kind":"org","orgId":"9"}""");

        Assert.Null(await store.GetAsync("u", default));
        Assert.Null(await store.GetAsync("o", default));
        Assert.NotNull(await store.GetAsync("keep", default));
    }
}
