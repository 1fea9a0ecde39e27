using System.Net;
using Gateway.Contracts;
using Gateway.Redis;
using Gateway.Sessions;
using Gateway.Tests.Support;
using TestInfrastructure;

namespace Gateway.Tests.Sessions;

/// <summary>The invalidation subscription of a gateway that started while Redis was down.</summary>
public sealed class InvalidationSubscriptionTests
{
    [Fact]
    public async Task AGatewayThatStartedBeforeRedis_HandlesEachInvalidationOnce()
    {
        // The subscriber retries each second while Redis is down. The client library kept the handler of every failed
        // SUBSCRIBE, so once Redis was up each message was handled once per failed try: the delay metric counted it
        // that many times and every listener (open streams, the response cache) ran that many times.
        int port = FreePort.Next();
        await using var backend = await FakeSessionBackend.StartAsync();
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl,
            $"127.0.0.1:{port},abortConnect=false,connectTimeout=1000,syncTimeout=1000", RouteFiles.CreateTemp());
        var subscriber = gateway.Get<InvalidationSubscriber>();
        string userId = Guid.NewGuid().ToString();
        int handled = 0;
        subscriber.Invalidated += message => { if (message.UserId == userId) Interlocked.Increment(ref handled); };

        await Task.Delay(TimeSpan.FromSeconds(3.5), TestContext.Current.CancellationToken);   // several failed subscriptions
        Assert.False(subscriber.IsSubscribed);
        await using var redis = await RedisServer.StartAsync(port);
        await Poll.UntilAsync(() => subscriber.IsSubscribed, "the subscription was made once Redis was up", TimeSpan.FromSeconds(30));

        long at = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await redis.CliAsync("PUBLISH", SessionRedisContract.InvalidationChannel,
            $"{{\"v\":1,\"kind\":\"user-data\",\"userId\":\"{userId}\",\"reason\":\"profile-update\",\"at\":{at}}}");
        await Poll.UntilAsync(() => Volatile.Read(ref handled) > 0, "the message was handled");
        await Task.Delay(500, TestContext.Current.CancellationToken);   // any duplicate is dispatched with the first
        Assert.Equal(1, Volatile.Read(ref handled));
    }

    /// <summary>
    /// A gateway whose SUBSCRIBE never went through while its commands work (here a Redis ACL user without channel rights,
    /// Redis 7's default for a new user; likewise Redis down at start): revocations cannot reach its L1, so closed classes
    /// must not trust it, and once the subscription is made, L1 is dropped. Until 2026-12-06 only a subscription lost
    /// after it had worked counted: a revoked session passed from L1 on a closed class, and the status page read healthy.
    /// </summary>
    [Fact]
    public async Task AGatewayWhoseSubscriptionNeverWentThrough_DoesNotTrustL1OnClosedClasses_AndDropsItOnceSubscribed()
    {
        await using var server = await RedisServer.StartAsync();
        await server.CliAsync("ACL", "SETUSER", "gateway", "on", ">gateway-password", "~*", "+@all", "resetchannels");
        await using var backend = await FakeSessionBackend.StartAsync();
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl,
            $"{server.ConnectionString},user=gateway,password=gateway-password", RouteFiles.CreateTemp());
        var redis = gateway.Get<IRedisClient>();
        var subscriber = gateway.Get<InvalidationSubscriber>();
        await Poll.UntilAsync(() => redis.IsAvailable, "the gateway's commands reach Redis");
        await Task.Delay(TimeSpan.FromSeconds(1.5), TestContext.Current.CancellationToken);   // a refused SUBSCRIBE or two
        Assert.False(subscriber.IsSubscribed);
        Assert.False(redis.RevocationsCanArrive);

        var revoked = TestSession.Create();
        var kept = TestSession.Create();
        backend.Add(revoked);
        backend.Add(kept);
        Assert.Equal(HttpStatusCode.OK, (await gateway.Client.SendAsync(revoked.Get("/audit/events"))).StatusCode);   // closed class
        Assert.Equal(HttpStatusCode.OK, (await gateway.Client.SendAsync(kept.Get("/auth/me"))).StatusCode);          // resilient class
        Assert.True(InL1(gateway, kept));

        // Revoked where the backend revokes (its store and Redis); the message reaches no one.
        backend.Sessions.TryRemove(revoked.Hex, out _);
        await server.CliAsync("DEL", SessionRedisContract.SessionKey(revoked.Hex));
        await server.CliAsync("PUBLISH", SessionRedisContract.InvalidationChannel,
            $"{{\"v\":1,\"kind\":\"session\",\"sessionHash\":\"{revoked.Hex}\",\"reason\":\"logout\",\"at\":1}}");
        Assert.Equal(HttpStatusCode.Unauthorized, (await gateway.Client.SendAsync(revoked.Get("/audit/events"))).StatusCode);

        await server.CliAsync("ACL", "SETUSER", "gateway", "allchannels");
        await Poll.UntilAsync(() => subscriber.IsSubscribed && redis.RevocationsCanArrive, "the retried subscription goes through", TimeSpan.FromSeconds(30));
        Assert.False(InL1(gateway, kept));
        Assert.Equal(HttpStatusCode.Unauthorized, (await gateway.Client.SendAsync(revoked.Get("/auth/me"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await gateway.Client.SendAsync(kept.Get("/auth/me"))).StatusCode);
    }

    private static bool InL1(GatewayInstance gateway, TestSession session) =>
        TokenHash.TryParseHex(session.Hex, out var hash) && gateway.Get<L1SessionCache>().TryGet(hash, DateTimeOffset.UtcNow, out _);

    /// <summary>
    /// What the status page's "invalidation subscription connected" reads. It read the multiplexer's connection, so a
    /// gateway whose SUBSCRIBE had never gone through showed "connected" while revocations could not reach its L1.
    /// </summary>
    [Fact]
    public async Task TheSubscriptionReadsConnected_OnlyOnceSubscribed_AndWhileItsConnectionIsUp()
    {
        await using var server = await RedisServer.StartAsync();
        await using var redis = new Gateway.Redis.RedisClient(
            Microsoft.Extensions.Options.Options.Create(new Gateway.Redis.RedisOptions
            {
                Configuration = server.ConnectionString, OperationTimeout = TimeSpan.FromMilliseconds(500), ProbeInterval = TimeSpan.FromMilliseconds(200),
            }),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<Gateway.Redis.RedisClient>.Instance, TimeProvider.System);
        await Poll.UntilAsync(() => redis.IsAvailable, "the Redis client connects");

        Assert.False(redis.IsSubscriptionConnected);   // connected, but nothing subscribed
        int received = 0;
        await redis.SubscribeAsync("test:subscription-state", _ => Interlocked.Increment(ref received));
        Assert.True(redis.IsSubscriptionConnected);

        await server.StopAsync();
        await Poll.UntilAsync(() => !redis.IsSubscriptionConnected, "the subscription reads disconnected once Redis is gone");
        await server.StartAsync();
        await Poll.UntilAsync(() => redis.IsSubscriptionConnected, "and connected again", TimeSpan.FromSeconds(30));
        // Connected again means messages arrive again (the library re-subscribed on the new connection).
        await Poll.UntilAsync(async () =>
        {
            await server.CliAsync("PUBLISH", "test:subscription-state", "hello");
            return Volatile.Read(ref received) > 0;
        }, "a message published after the restart is received", TimeSpan.FromSeconds(30));
    }
}
