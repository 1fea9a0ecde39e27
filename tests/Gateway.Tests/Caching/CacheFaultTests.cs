using System.Net;
using Gateway.Caching;
using Gateway.Tests.PolicyTesting;
using Microsoft.AspNetCore.OutputCaching;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
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
    public async Task AnEvictionRedisDidNotGet_IsNeverServedFromRedis_AndIsReplayedThereOnceRedisIsBack()
    {
        // Found by an adversarial review: a membership change evicted only the in-process copies while the Redis breaker
        // was open, and every instance then served the stale Redis copy (an /authz/check answer) until its TTL.
        var server = await RedisServer.StartAsync();
        try
        {
            await using var clientA = await TestRedis.ConnectAsync(server.ConnectionString);
            await using var clientB = await TestRedis.ConnectAsync(server.ConnectionString);
            var a = OutputCacheStoreContractTests.NewStore(TimeProvider.System, clientA);
            var b = OutputCacheStoreContractTests.NewStore(TimeProvider.System, clientB);
            string key = "k-" + Guid.NewGuid().ToString("N"), tag = "user:" + Guid.NewGuid().ToString("N");
            await a.SetAsync(key, "stale"u8.ToArray(), [tag], TimeSpan.FromMinutes(5), default);

            await server.CliAsync("client", "pause", "1500");   // Redis stalls: A's breaker opens
            Assert.Null(await a.GetAsync(key + "-other", default));
            await Poll.UntilAsync(() => !clientA.IsAvailable, "A's Redis breaker is open");
            await a.EvictByTagAsync(tag, default);              // the invalidation arrives now: Redis cannot take it
            Assert.Equal(1, a.PendingL2Evictions);
            await Poll.UntilAsync(() => clientA.IsAvailable, "A's Redis breaker closed again", TimeSpan.FromSeconds(10));

            Assert.Null(await a.GetAsync(key, default));   // the Redis copy carries an evicted tag: a miss, not stale
            await Poll.UntilAsync(() => a.PendingL2Evictions == 0, "A replayed the eviction on Redis", TimeSpan.FromSeconds(10));
            Assert.Null(await b.GetAsync(key, default));   // an instance that never saw the eviction finds nothing either
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task AResponseComputedBeforeAnEvictionOfItsTags_IsNotStored_OneBegunAfterIs()
    {
        // Found by an adversarial review: an answer the backend computed before a membership change, stored after its
        // eviction, was served by every instance until its TTL.
        await using var clientA = await TestRedis.ConnectAsync(redis.ConnectionString);
        await using var clientB = await TestRedis.ConnectAsync(redis.ConnectionString);
        var a = OutputCacheStoreContractTests.NewStore(TimeProvider.System, clientA);
        var b = OutputCacheStoreContractTests.NewStore(TimeProvider.System, clientB);
        string key = "k-" + Guid.NewGuid().ToString("N"), tag = "org:" + Guid.NewGuid().ToString("N");

        long begun = a.EvictionGeneration;   // the request begins, the backend computes its answer
        await a.EvictByTagAsync(tag, default);   // the change's eviction arrives
        await a.SetAsync(key, "before the change"u8.ToArray(), [tag, TieredOutputCacheStore.SinceTag(begun)], TimeSpan.FromMinutes(5), default);
        Assert.Null(await a.GetAsync(key, default));
        Assert.Null(await b.GetAsync(key, default));

        await a.SetAsync(key, "after the change"u8.ToArray(), [tag, TieredOutputCacheStore.SinceTag(a.EvictionGeneration)], TimeSpan.FromMinutes(5), default);
        Assert.Equal("after the change"u8.ToArray(), await b.GetAsync(key, default));
        // The reserved tag is how the store learns when the request began; it is not a tag of the entry.
        Assert.Equal(0, (long)(await clientA.EvaluateAsync("return #redis.call('KEYS', '*since:*')", [], [])).Value!);
    }

    [Theory]
    [InlineData("stopped")]
    [InlineData("stalled")]
    public async Task RedisStoppedOrStalled_ThroughTheGateway_IsACacheMiss_NeverA5xx(string fault)
    {
        var server = await RedisServer.StartAsync();
        await using var backend = await RecordingBackend.StartAsync();
        CachingGateway.EchoIdentity(backend);
        try
        {
            await using var client = await TestRedis.ConnectAsync(server.ConnectionString);
            await using var host = await CachingGateway.StartAsync(backend, client);
            string alice = "alice-" + Guid.NewGuid().ToString("N"), bob = "bob-" + Guid.NewGuid().ToString("N");
            Assert.Equal((HttpStatusCode.OK, "MISS"), await MeAsync(host, alice));

            if (fault == "stopped") await server.StopAsync();
            else server.Pause();   // SIGSTOP: the connection stays up and every command hangs

            Assert.Equal((HttpStatusCode.OK, "HIT"), await MeAsync(host, alice));   // from L1, Redis not asked
            Assert.Equal((HttpStatusCode.OK, "MISS"), await MeAsync(host, bob));    // the L2 lookup fails: a miss
            Assert.False(client.IsAvailable);                                       // and it opened the breaker
            Assert.Equal((HttpStatusCode.OK, "HIT"), await MeAsync(host, bob));     // stored in L1 all the same
            Assert.Equal(2, backend.Requests.Count);
        }
        finally
        {
            if (fault == "stalled") server.Resume();
            await server.DisposeAsync();
        }
    }

    private static async Task<(HttpStatusCode Status, string? XCache)> MeAsync(PolicyTestHost host, string user)
    {
        using var response = await host.Client.SendAsync(PolicyTestHost.Get("/auth/me", user: user, cache: CachingGateway.Policy));
        return (response.StatusCode, response.Headers.TryGetValues("X-Cache", out var x) ? x.Single() : null);
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
        await Poll.UntilAsync(async () =>
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
        var services = OutputCacheStoreContractTests.Services(TimeProvider.System, client);
        var pausing = new PausingStore(services.GetRequiredKeyedService<IOutputCacheStore>(ResponseCachingServiceCollectionExtensions.RedisTierKey));
        var store = new TieredOutputCacheStore(Options.Create(new ResponseCachingOptions()), TimeProvider.System,
            NullLogger<TieredOutputCacheStore>.Instance, pausing, client);
        string user = Guid.NewGuid().ToString(), key = "me-" + user;
        await store.SetAsync(key, "stale"u8.ToArray(), [CacheTags.User(user)], TimeSpan.FromMinutes(5), default);

        // The eviction has dropped the L1 entry and is about to delete the Redis one when a read comes in.
        var eviction = store.EvictByTagAsync(CacheTags.User(user), default).AsTask();
        await pausing.EvictionPaused.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("stale"u8.ToArray(), await store.GetAsync(key, default));   // still in Redis for this instant
        pausing.ReleaseEviction.SetResult();
        await eviction;

        Assert.Null(await store.GetAsync(key, default));
    }

    /// <summary>Holds the first tag eviction in the Redis tier until the test releases it.</summary>
    private sealed class PausingStore(IOutputCacheStore inner) : IOutputCacheStore
    {
        public readonly TaskCompletionSource EvictionPaused = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly TaskCompletionSource ReleaseEviction = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async ValueTask EvictByTagAsync(string tag, CancellationToken cancellationToken)
        {
            if (EvictionPaused.TrySetResult()) await ReleaseEviction.Task;
            await inner.EvictByTagAsync(tag, cancellationToken);
        }

        public ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken) => inner.GetAsync(key, cancellationToken);
        public ValueTask SetAsync(string key, byte[] value, string[]? tags, TimeSpan validFor, CancellationToken cancellationToken) =>
            inner.SetAsync(key, value, tags, validFor, cancellationToken);
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
