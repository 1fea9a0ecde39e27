using Gateway.Caching;
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
