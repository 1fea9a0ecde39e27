using System.Net;
using Gateway.Contracts;
using Gateway.Redis;
using Gateway.Sessions;
using Gateway.Tests.Support;
using TestInfrastructure;

namespace Gateway.Tests.Sessions;

/// <summary>
/// Shipped classes: /users/** is critical-auth (failMode resilient), /audit/** is standard (failMode closed).
/// Each test owns its Redis, because it stops it.
/// </summary>
public sealed class FailModeTests : IAsyncLifetime
{
    private RedisServer _redis = null!;
    private FakeSessionBackend _backend = null!;
    private GatewayInstance _gateway = null!;

    public async ValueTask InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _backend = await FakeSessionBackend.StartAsync();
        _gateway = await GatewayInstance.StartAsync(_backend.BaseUrl, _redis.ConnectionString, RouteFiles.CreateTemp());
        await Poll.UntilAsync(() => _gateway.Get<IRedisClient>().IsAvailable, "the gateway is connected to Redis");
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _backend.DisposeAsync();
        await _redis.DisposeAsync();
    }

    private async Task StopRedis()
    {
        await _redis.StopAsync();
        await Poll.UntilAsync(() => !_gateway.Get<IRedisClient>().IsAvailable, "the gateway sees Redis down");
    }

    /// <summary>
    /// Redis answering while the subscription's connection is gone (Redis killed it: its pub/sub output-buffer limit,
    /// <c>CLIENT KILL</c>, a failover): a revocation published meanwhile never arrives. Closed classes then re-check
    /// L1-known sessions, and once the library has re-subscribed, L1 is dropped: what it held may have been revoked
    /// unseen. Until 2026-12-05 only the command connection counted, and a revoked session passed from L1 on every class
    /// until its entry expired (<c>Sessions:L1Ttl</c>, 30 s).
    /// </summary>
    [Fact]
    public async Task ASubscriptionThatLostItsConnection_ClosedClassesReCheck_AndL1IsDroppedOnceItIsBack()
    {
        var subscriber = _gateway.Get<InvalidationSubscriber>();
        var redis = _gateway.Get<IRedisClient>();
        await Poll.UntilAsync(() => subscriber.IsSubscribed && redis.RevocationsCanArrive, "the gateway is subscribed");
        var revoked = TestSession.Create();
        var kept = TestSession.Create();
        _backend.Add(revoked);
        _backend.Add(kept);
        Assert.Equal(HttpStatusCode.OK, (await _gateway.Client.SendAsync(revoked.Get("/audit/events"))).StatusCode);   // closed class
        Assert.Equal(HttpStatusCode.OK, (await _gateway.Client.SendAsync(kept.Get("/auth/me"))).StatusCode);
        Assert.True(InL1(kept));

        // Revoked where the backend revokes (its store and Redis), while the message is lost with the connection.
        _backend.Sessions.TryRemove(revoked.Hex, out _);
        await _redis.CliAsync("DEL", SessionRedisContract.SessionKey(revoked.Hex));
        await _redis.CliAsync("CLIENT", "KILL", "TYPE", "pubsub");
        await Poll.UntilAsync(() => !redis.RevocationsCanArrive || subscriber.Restorations > 0, "the gateway notices the lost connection");
        Assert.Equal(HttpStatusCode.Unauthorized, (await _gateway.Client.SendAsync(revoked.Get("/audit/events"))).StatusCode);

        await Poll.UntilAsync(() => subscriber.Restorations > 0 && redis.RevocationsCanArrive, "the subscription is back", TimeSpan.FromSeconds(30));
        Assert.False(InL1(kept));
        // A resilient class trusts L1 whatever happens to Redis: the revoked session is refused there too, since L1 was dropped.
        Assert.Equal(HttpStatusCode.Unauthorized, (await _gateway.Client.SendAsync(revoked.Get("/auth/me"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _gateway.Client.SendAsync(kept.Get("/auth/me"))).StatusCode);
    }

    /// <summary>
    /// The response cache too: an eviction published while the subscription was lost never arrives, so once it is back
    /// nothing cached before is served. Until 2026-12-06 only session L1 was dropped; a cached /auth/me stayed in the
    /// response cache's L1 up to <c>ResponseCaching:L1MaxTtl</c>, and was then copied back from its Redis copy, which
    /// lives for the policy's TTL (up to a day).
    /// </summary>
    [Fact]
    public async Task AfterTheSubscriptionComesBack_NoResponseCachedBeforeIsServed()
    {
        var subscriber = _gateway.Get<InvalidationSubscriber>();
        var redis = _gateway.Get<IRedisClient>();
        await Poll.UntilAsync(() => subscriber.IsSubscribed && redis.RevocationsCanArrive, "the gateway is subscribed");
        var session = TestSession.Create();
        _backend.Add(session);
        Assert.Equal("MISS", (await _gateway.Client.SendAsync(session.Get("/auth/me"))).Headers.GetValues("X-Cache").Single());
        Assert.Equal("HIT", (await _gateway.Client.SendAsync(session.Get("/auth/me"))).Headers.GetValues("X-Cache").Single());

        await _redis.CliAsync("CLIENT", "KILL", "TYPE", "pubsub");
        await Poll.UntilAsync(() => subscriber.Restorations > 0 && redis.RevocationsCanArrive, "the subscription is back", TimeSpan.FromSeconds(30));

        Assert.Equal("MISS", (await _gateway.Client.SendAsync(session.Get("/auth/me"))).Headers.GetValues("X-Cache").Single());
        Assert.Equal("HIT", (await _gateway.Client.SendAsync(session.Get("/auth/me"))).Headers.GetValues("X-Cache").Single());
    }

    private bool InL1(TestSession session) =>
        TokenHash.TryParseHex(session.Hex, out var hash) && _gateway.Get<L1SessionCache>().TryGet(hash, DateTimeOffset.UtcNow, out _);

    [Fact]
    public async Task Closed_WithRedisDown_L1KnownTokenIsRevalidatedByTheBackend_And503WhenBackendFailsToo()
    {
        var session = TestSession.Create();
        _backend.Add(session);
        Assert.Equal(HttpStatusCode.OK, (await _gateway.Client.SendAsync(session.Get("/audit/events"))).StatusCode);
        int calls = _backend.IntrospectionCount;

        await StopRedis();
        Assert.Equal(HttpStatusCode.OK, (await _gateway.Client.SendAsync(session.Get("/audit/events"))).StatusCode);
        Assert.Equal(calls + 1, _backend.IntrospectionCount);

        _backend.IntrospectionFails = true;
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await _gateway.Client.SendAsync(session.Get("/audit/events"))).StatusCode);

        _backend.IntrospectionFails = false;
        _backend.Sessions.TryRemove(session.Hex, out _);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _gateway.Client.SendAsync(session.Get("/audit/events"))).StatusCode);
    }

    [Fact]
    public async Task Resilient_WithRedisAndBackendDown_AcceptsL1KnownTokens_AndNeverUnknownOnes()
    {
        var known = TestSession.Create();
        _backend.Add(known);
        Assert.Equal(HttpStatusCode.OK, (await _gateway.Client.SendAsync(known.Get("/users/me"))).StatusCode);

        await StopRedis();
        // The session service is down (introspection fails); the proxied route itself still answers.
        _backend.IntrospectionFails = true;

        Assert.Equal(HttpStatusCode.OK, (await _gateway.Client.SendAsync(known.Get("/users/me"))).StatusCode);
        var unknown = TestSession.Create();
        var response = await _gateway.Client.SendAsync(unknown.Get("/users/me"));
        Assert.True(response.StatusCode is HttpStatusCode.ServiceUnavailable or HttpStatusCode.Unauthorized, response.StatusCode.ToString());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await _gateway.Client.SendAsync(known.Get("/audit/x"))).StatusCode);
    }
}
