using System.Collections.Concurrent;
using Backend.Tests.Support;
using Gateway.Contracts;
using StackExchange.Redis;
using TestInfrastructure;

namespace Backend.Tests.Invalidation;

/// <summary>
/// The fence script (docs/contracts.md): with a channel and a message it publishes after its delete, in the same atomic
/// step, so an invalidation of one session is one round trip; without them it publishes nothing.
/// </summary>
public sealed class FenceScriptTests(RedisFixture redis)
{
    [Fact]
    public async Task WithAChannel_ItFencesDeletesAndPublishes_AndTheSubscriberFindsThePrincipalGone()
    {
        await using var mux = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var db = mux.GetDatabase();
        string hash = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
        string channel = "gw:v1:test-fence:" + hash;
        await db.StringSetAsync(SessionRedisContract.SessionKey(hash), "{\"principal\":1}");
        // What a gateway does on the message: read the principal. It must already be gone.
        var seen = new TaskCompletionSource<(string Message, bool PrincipalThere)>(TaskCreationOptions.RunContinuationsAsynchronously);
        await mux.GetSubscriber().SubscribeAsync(RedisChannel.Literal(channel), async (_, message) =>
            seen.TrySetResult(((string)message!, await db.KeyExistsAsync(SessionRedisContract.SessionKey(hash)))));

        await db.ScriptEvaluateAsync(SessionRedisContract.FenceScript,
            [SessionRedisContract.SessionKey(hash), SessionRedisContract.FenceKey(hash)],
            [SessionRedisContract.Revoked, 60_000, channel, "revoked " + hash]);

        var (received, principalThere) = await seen.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("revoked " + hash, received);
        Assert.False(principalThere);
        Assert.Equal(SessionRedisContract.Revoked, (string?)await db.StringGetAsync(SessionRedisContract.FenceKey(hash)));
    }

    [Fact]
    public async Task WithoutAChannel_ItFencesAndDeletes_AndPublishesNothing()
    {
        await using var mux = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var db = mux.GetDatabase();
        string hash = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
        await db.StringSetAsync(SessionRedisContract.SessionKey(hash), "{\"principal\":1}");
        var messages = new ConcurrentQueue<string>();
        await mux.GetSubscriber().SubscribeAsync(RedisChannel.Pattern("*"), (_, message) => messages.Enqueue((string)message!));

        await db.ScriptEvaluateAsync(SessionRedisContract.FenceScript,
            [SessionRedisContract.SessionKey(hash), SessionRedisContract.FenceKey(hash)], [7, 60_000]);
        // A marker published after the script arrives after anything the script published (one connection, in order).
        string marker = "marker " + hash;
        await db.PublishAsync(RedisChannel.Literal("gw:v1:test-marker:" + hash), marker);
        await Api.EventuallyAsync(() => Task.FromResult(messages.Contains(marker)), "the marker message");

        Assert.Equal([marker], messages.Where(m => m.Contains(hash)));
        Assert.False(await db.KeyExistsAsync(SessionRedisContract.SessionKey(hash)));
        Assert.Equal("7", (string?)await db.StringGetAsync(SessionRedisContract.FenceKey(hash)));
    }
}
