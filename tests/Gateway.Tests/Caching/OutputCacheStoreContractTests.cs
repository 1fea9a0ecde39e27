using System.Text;
using Gateway.Caching;
using Gateway.Redis;
using Gateway.Tests.PolicyTesting;
using Microsoft.AspNetCore.OutputCaching;
using Microsoft.Extensions.DependencyInjection;
using TestInfrastructure;

namespace Gateway.Tests.Caching;

/// <summary>The behaviour every <see cref="IOutputCacheStore"/> of the gateway must have, run against each implementation.</summary>
public abstract class OutputCacheStoreContractTests : IAsyncLifetime
{
    protected readonly FakeTimeProvider Clock = new(DateTimeOffset.UtcNow);
    protected IOutputCacheStore Store { get; private set; } = null!;
    private readonly string _id = Guid.NewGuid().ToString("N");

    protected abstract ValueTask<IOutputCacheStore> CreateStoreAsync();
    public virtual async ValueTask InitializeAsync() => Store = await CreateStoreAsync();
    public virtual ValueTask DisposeAsync() => ValueTask.CompletedTask;

    protected string Key(string name) => name + "-" + _id;
    protected string Tag(string name) => "user:" + name + "-" + _id;
    private static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

    /// <summary>The store as the gateway registers it: with a Redis client, L1 in front of the package's Redis store.</summary>
    internal static TieredOutputCacheStore NewStore(TimeProvider clock, IRedisClient? redis) =>
        Services(clock, redis).GetRequiredService<TieredOutputCacheStore>();

    /// <summary>
    /// The response-caching services over <paramref name="redis"/>. Not disposed by the tests: the package's store
    /// closes the multiplexer it was lent when disposed, and that multiplexer belongs to the test's client.
    /// </summary>
    internal static ServiceProvider Services(TimeProvider clock, IRedisClient? redis)
    {
        var services = new ServiceCollection().AddLogging().AddSingleton(clock);
        if (redis is not null) services.AddSingleton(redis);
        services.AddGatewayResponseCaching();
        return services.BuildServiceProvider();
    }

    [Fact]
    public async Task SetThenGet_ReturnsTheValue_UnknownKeyIsAMiss()
    {
        await Store.SetAsync(Key("a"), Bytes("alpha"), [Tag("u1")], TimeSpan.FromMinutes(5), default);
        Assert.Equal("alpha", Encoding.UTF8.GetString((await Store.GetAsync(Key("a"), default))!));
        Assert.Null(await Store.GetAsync(Key("missing"), default));
    }

    [Fact]
    public async Task Entry_ExpiresAfterItsValidity()
    {
        await Store.SetAsync(Key("ttl"), Bytes("v"), [Tag("u1")], TimeSpan.FromSeconds(30), default);
        Clock.Advance(TimeSpan.FromSeconds(31));
        Assert.Null(await Store.GetAsync(Key("ttl"), default));
    }

    [Fact]
    public async Task EvictByTag_RemovesEveryTaggedEntry_AndNothingElse()
    {
        await Store.SetAsync(Key("me"), Bytes("1"), [Tag("u1")], TimeSpan.FromMinutes(5), default);
        await Store.SetAsync(Key("org"), Bytes("2"), [Tag("u1"), Tag("o1")], TimeSpan.FromMinutes(5), default);
        await Store.SetAsync(Key("other"), Bytes("3"), [Tag("u2")], TimeSpan.FromMinutes(5), default);

        await Store.EvictByTagAsync(Tag("u1"), default);

        Assert.Null(await Store.GetAsync(Key("me"), default));
        Assert.Null(await Store.GetAsync(Key("org"), default));
        Assert.NotNull(await Store.GetAsync(Key("other"), default));
    }

    [Fact]
    public async Task Set_ReplacesAnExistingEntry()
    {
        await Store.SetAsync(Key("r"), Bytes("old"), [Tag("u1")], TimeSpan.FromMinutes(5), default);
        await Store.SetAsync(Key("r"), Bytes("new"), [Tag("u1")], TimeSpan.FromMinutes(5), default);
        Assert.Equal("new", Encoding.UTF8.GetString((await Store.GetAsync(Key("r"), default))!));
    }
}

public sealed class L1OnlyStoreContractTests : OutputCacheStoreContractTests
{
    protected override ValueTask<IOutputCacheStore> CreateStoreAsync() => ValueTask.FromResult<IOutputCacheStore>(NewStore(Clock, redis: null));
}

public sealed class TieredStoreContractTests(RedisFixture redis) : OutputCacheStoreContractTests
{
    private RedisClient _client = null!;

    protected override async ValueTask<IOutputCacheStore> CreateStoreAsync()
    {
        _client = await TestRedis.ConnectAsync(redis.ConnectionString, 1000);
        return NewStore(Clock, _client);
    }

    public override async ValueTask DisposeAsync() => await _client.DisposeAsync();

    [Fact]
    public async Task EntrySetByOneInstance_IsReadByAnother_FromRedis()
    {
        await using var otherClient = await TestRedis.ConnectAsync(redis.ConnectionString, 1000);
        var other = NewStore(Clock, otherClient);
        await Store.SetAsync(Key("shared"), "hello"u8.ToArray(), [Tag("u1")], TimeSpan.FromMinutes(5), default);
        Assert.Equal("hello"u8.ToArray(), await other.GetAsync(Key("shared"), default));
    }

    [Fact]
    public async Task WireFormat_RoundTripsTagsExpiryAndWriteTime_AndRejectsOtherVersions()
    {
        var at = DateTimeOffset.FromUnixTimeMilliseconds(1_763_800_000_000);
        var written = at - TimeSpan.FromSeconds(30);
        var wire = CacheEntryFormat.Write("body"u8.ToArray(), ["user:1", "org:2"], at, written);
        Assert.True(CacheEntryFormat.TryRead(wire, out var payload, out var tags, out var expires, out var writtenAt));
        Assert.Equal("body"u8.ToArray(), payload);
        Assert.Equal(["user:1", "org:2"], tags);
        Assert.Equal(at, expires);
        Assert.Equal(written, writtenAt);
        wire[0] = 1;   // an instance of the previous version wrote it: a miss
        Assert.False(CacheEntryFormat.TryRead(wire, out _, out _, out _, out _));
        await Task.CompletedTask;
    }

    [Fact]
    public async Task EntriesWrittenBeforeTheSubscriptionCameBack_AreMisses_InL1AndInRedis_NewOnesAreNot()
    {
        await using var otherClient = await TestRedis.ConnectAsync(redis.ConnectionString, 1000);
        await Store.SetAsync(Key("before"), "old"u8.ToArray(), [Tag("u1")], TimeSpan.FromMinutes(5), default);
        Assert.Equal("old"u8.ToArray(), await Store.GetAsync(Key("before"), default));

        Clock.Advance(TimeSpan.FromMilliseconds(5));
        ((TieredOutputCacheStore)Store).DistrustEntriesWrittenBefore(Clock.GetUtcNow());

        Assert.Null(await Store.GetAsync(Key("before"), default));   // neither from L1 nor copied back from Redis
        Clock.Advance(TimeSpan.FromMilliseconds(5));
        await Store.SetAsync(Key("after"), "new"u8.ToArray(), [Tag("u1")], TimeSpan.FromMinutes(5), default);
        Assert.Equal("new"u8.ToArray(), await NewStore(Clock, otherClient).GetAsync(Key("after"), default));
        Assert.Equal("new"u8.ToArray(), await Store.GetAsync(Key("after"), default));
    }
}
