using Gateway.Contracts;
using System.Net;
using Gateway.Redis;
using Gateway.Sessions;
using Gateway.Tests.Support;
using TestInfrastructure;

namespace Gateway.Tests.Sessions;

/// <summary>Sessions and revocation across two gateway instances on one standalone Redis.</summary>
public sealed class RevocationTests(RedisFixture redis) : RevocationTestsBase
{
    protected override Task<string> StartRedisAsync() => Task.FromResult(redis.ConnectionString);
}

/// <summary>The same suite against a real 3-master Redis Cluster (keys spread over slots, pub/sub across nodes).</summary>
public sealed class RevocationOnRedisClusterTests : RevocationTestsBase
{
    private RedisCluster? _cluster;

    protected override async Task<string> StartRedisAsync()
    {
        _cluster = await RedisCluster.StartAsync();
        return _cluster.ConnectionString;
    }

    protected override async ValueTask StopRedisAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
    }
}

public abstract class RevocationTestsBase : IAsyncLifetime
{
    private FakeSessionBackend _backend = null!;
    private GatewayInstance _a = null!, _b = null!;

    protected abstract Task<string> StartRedisAsync();
    protected virtual ValueTask StopRedisAsync() => ValueTask.CompletedTask;

    public async ValueTask InitializeAsync()
    {
        string redis = await StartRedisAsync();
        _backend = await FakeSessionBackend.StartAsync();
        string routes = RouteFiles.CreateTemp();
        _a = await GatewayInstance.StartAsync(_backend.BaseUrl, redis, routes);
        _b = await GatewayInstance.StartAsync(_backend.BaseUrl, redis, routes);
        await Poll.UntilAsync(() => _a.Get<InvalidationSubscriber>().IsSubscribed && _b.Get<InvalidationSubscriber>().IsSubscribed, "both gateways subscribed");
        await Poll.UntilAsync(() => _a.Get<IRedisClient>().IsAvailable && _b.Get<IRedisClient>().IsAvailable, "both gateways reach Redis");
    }

    public async ValueTask DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _backend.DisposeAsync();
        await StopRedisAsync();
    }

    [Fact]
    public async Task SessionValidatedThroughA_IsServedFromRedisByB_WithoutASecondIntrospection()
    {
        var session = TestSession.Create();
        _backend.Add(session);
        Assert.Equal(HttpStatusCode.OK, (await _a.Client.SendAsync(session.Get("/users/me"))).StatusCode);
        int afterA = _backend.IntrospectionCount;
        await Poll.UntilAsync(async () => (await _a.Get<IRedisClient>().GetStringAsync(SessionRedisContract.SessionKey(session.Hex))).Value is not null,
            "A wrote the session to Redis");
        Assert.Equal(HttpStatusCode.OK, (await _b.Client.SendAsync(session.Get("/users/me"))).StatusCode);
        Assert.Equal(afterA, _backend.IntrospectionCount);
    }

    /// <summary>What the backend does on logout: delete the key, then publish.</summary>
    private async Task RevokeAsBackend(TestSession session, string message)
    {
        _backend.Sessions.TryRemove(session.Hex, out _);
        await _a.Get<IRedisClient>().DeleteAsync(SessionRedisContract.SessionKey(session.Hex));
        await _a.Get<IRedisClient>().PublishAsync(SessionRedisContract.InvalidationChannel, message);
    }

    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    [Fact]
    public async Task SessionRevokedThroughA_IsRejectedByB()
    {
        var session = TestSession.Create();
        _backend.Add(session);
        Assert.Equal(HttpStatusCode.OK, (await _a.Client.SendAsync(session.Get("/users/me"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _b.Client.SendAsync(session.Get("/users/me"))).StatusCode);
        var seen = new List<InvalidationMessage>();
        _b.Get<IInvalidationBus>().Invalidated += m => { lock (seen) seen.Add(m); };

        await RevokeAsBackend(session, $"{{\"v\":1,\"kind\":\"session\",\"sessionHash\":\"{session.Hex}\",\"userId\":\"{session.UserId}\",\"reason\":\"logout\",\"at\":{Now}}}");

        await Poll.UntilAsync(async () => (await _b.Client.SendAsync(session.Get("/users/me"))).StatusCode == HttpStatusCode.Unauthorized,
            "instance B rejects the revoked token", TimeSpan.FromSeconds(10));
        Assert.Equal(HttpStatusCode.Unauthorized, (await _a.Client.SendAsync(session.Get("/users/me"))).StatusCode);
        // The subscriber evicts L1 first and raises Invalidated after, to its other handlers (stream revocation, cache
        // eviction) before this one: B can already answer 401 while the event is still on its way here.
        await Poll.UntilAsync(() => { lock (seen) return seen.Exists(m => m.Kind == "session" && m.SessionHash == session.Hex); },
            "B's invalidation bus raised the session message", TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task AnAnswerTheBackendGaveBeforeALogout_ArrivingAfterTheLogoutWasHandled_IsNotTrusted()
    {
        // The backend vouches, then the session is revoked and instance A handles the message, then the answer arrives.
        // Stored, it was trusted from L1 until L1Ttl with the subscription healthy (found by an adversarial review).
        var session = TestSession.Create();
        _backend.Add(session);
        var handled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _a.Get<IInvalidationBus>().Invalidated += m => { if (m.SessionHash == session.Hex) handled.TrySetResult(); };
        int revoked = 0;
        _backend.BeforeIntrospectionAnswer = async hash =>
        {
            if (hash != session.Hex || Interlocked.Exchange(ref revoked, 1) == 1) return;
            await RevokeAsBackend(session, $"{{\"v\":1,\"kind\":\"session\",\"sessionHash\":\"{session.Hex}\",\"userId\":\"{session.UserId}\",\"reason\":\"logout\",\"at\":{Now}}}");
            await handled.Task.WaitAsync(TimeSpan.FromSeconds(10));   // A evicted L1 and told its handlers: the logout is handled
        };

        Assert.Equal(HttpStatusCode.Unauthorized, (await _a.Client.SendAsync(session.Get("/users/me"))).StatusCode);
        Assert.Equal(2, _backend.IntrospectionsOf(session.Hex));   // the overtaken answer was asked for again
        Assert.Equal(HttpStatusCode.Unauthorized, (await _a.Client.SendAsync(session.Get("/users/me"))).StatusCode);
        Assert.Empty(_backend.ProxiedTo("/users/me"));
    }

    /// <summary>
    /// A lookup overtaken once asks again, and its second answer decides the requests that were waiting. A request that
    /// arrives after this instance handled a logout and joins that lookup was not waiting: when the second answer was
    /// overtaken too, it asks the backend itself. Before, it was served the answer from before the logout (found by an
    /// adversarial review).
    /// </summary>
    [Fact]
    public async Task ARequestJoiningALookupAfterTheLogoutWasHandled_IsNotServedTheAnswerFromBeforeIt()
    {
        var session = TestSession.Create();
        _backend.Add(session);
        var userHandled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var logoutHandled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _a.Get<IInvalidationBus>().Invalidated += m =>
        {
            if (m.Kind == "user" && m.UserId == session.UserId) userHandled.TrySetResult();
            if (m.SessionHash == session.Hex) logoutHandled.TrySetResult();
        };
        var secondAnswerHeld = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseSecondAnswer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int answers = 0;
        _backend.BeforeIntrospectionAnswer = async hash =>
        {
            if (hash != session.Hex) return;
            switch (Interlocked.Increment(ref answers))
            {
                case 1:   // a change to the user's memberships overtakes the first answer: it is asked for again
                    await _a.Get<IRedisClient>().PublishAsync(SessionRedisContract.InvalidationChannel,
                        $"{{\"v\":1,\"kind\":\"user\",\"userId\":\"{session.UserId}\",\"reason\":\"membership\",\"at\":{Now}}}");
                    await userHandled.Task.WaitAsync(TimeSpan.FromSeconds(10));
                    break;
                case 2:   // the second answer is on its way when the logout happens
                    secondAnswerHeld.TrySetResult();
                    await releaseSecondAnswer.Task.WaitAsync(TimeSpan.FromSeconds(30));
                    break;
            }
        };

        var waiting = _a.Client.SendAsync(session.Get("/users/me"));
        await secondAnswerHeld.Task.WaitAsync(TimeSpan.FromSeconds(10));
        // The logout, as the backend makes it: its store, Redis's fence and principal, then the message.
        _backend.Sessions.TryRemove(session.Hex, out _);
        await _a.Get<IRedisClient>().EvaluateAsync(SessionRedisContract.FenceScript,
            [SessionRedisContract.SessionKey(session.Hex), SessionRedisContract.FenceKey(session.Hex)], [SessionRedisContract.Revoked, 600_000]);
        await _a.Get<IRedisClient>().PublishAsync(SessionRedisContract.InvalidationChannel,
            $"{{\"v\":1,\"kind\":\"session\",\"sessionHash\":\"{session.Hex}\",\"userId\":\"{session.UserId}\",\"reason\":\"logout\",\"at\":{Now}}}");
        await logoutHandled.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var joining = _a.Client.SendAsync(session.Get("/users/me"));
        await Task.Delay(300, TestContext.Current.CancellationToken);   // it finds neither L1 nor Redis, and joins the lookup
        releaseSecondAnswer.TrySetResult();

        Assert.Equal(HttpStatusCode.Unauthorized, (await joining).StatusCode);
        (await waiting).Dispose();   // waiting since before the logout: either answer is right for it
        Assert.Equal(HttpStatusCode.Unauthorized, (await _a.Client.SendAsync(session.Get("/users/me"))).StatusCode);
    }

    [Fact]
    public async Task AnAnswerOvertakenByARevocation_WhoseMessageNeverCame_IsRefusedByTheFence()
    {
        // The revocation reached Redis (fence raised, principal deleted) but its message did not reach instance A.
        var session = TestSession.Create();
        _backend.Add(session);
        int revoked = 0;
        _backend.BeforeIntrospectionAnswer = async hash =>
        {
            if (hash != session.Hex || Interlocked.Exchange(ref revoked, 1) == 1) return;
            _backend.Sessions.TryRemove(session.Hex, out _);
            await _a.Get<IRedisClient>().EvaluateAsync(SessionRedisContract.FenceScript,
                [SessionRedisContract.SessionKey(session.Hex), SessionRedisContract.FenceKey(session.Hex)],
                [SessionRedisContract.Revoked, 600_000]);
        };

        Assert.Equal(HttpStatusCode.Unauthorized, (await _a.Client.SendAsync(session.Get("/users/me"))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _a.Client.SendAsync(session.Get("/users/me"))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _b.Client.SendAsync(session.Get("/users/me"))).StatusCode);
        Assert.Null((await _a.Get<IRedisClient>().GetStringAsync(SessionRedisContract.SessionKey(session.Hex))).Value);
    }

    [Fact]
    public async Task UserInvalidation_EvictsEverySessionOfTheUser()
    {
        string userId = Guid.NewGuid().ToString();
        var first = TestSession.Create(userId: userId);
        var second = TestSession.Create(userId: userId);
        _backend.Add(first);
        _backend.Add(second);
        foreach (var s in new[] { first, second })
            Assert.Equal(HttpStatusCode.OK, (await _b.Client.SendAsync(s.Get("/users/me"))).StatusCode);

        _backend.Sessions.TryRemove(second.Hex, out _);
        await _a.Get<IRedisClient>().DeleteAsync(SessionRedisContract.SessionKey(second.Hex));
        await RevokeAsBackend(first, $"{{\"v\":1,\"kind\":\"user\",\"userId\":\"{userId}\",\"reason\":\"logout-all\",\"at\":{Now}}}");

        await Poll.UntilAsync(async () =>
            (await _b.Client.SendAsync(first.Get("/users/me"))).StatusCode == HttpStatusCode.Unauthorized
            && (await _b.Client.SendAsync(second.Get("/users/me"))).StatusCode == HttpStatusCode.Unauthorized,
            "instance B rejects both sessions of the user", TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task UnknownKinds_AreIgnored()
    {
        var session = TestSession.Create();
        _backend.Add(session);
        Assert.Equal(HttpStatusCode.OK, (await _b.Client.SendAsync(session.Get("/users/me"))).StatusCode);
        int before = _backend.IntrospectionCount;
        _b.Get<InvalidationSubscriber>().Handle($"{{\"v\":2,\"kind\":\"galaxy\",\"sessionHash\":\"{session.Hex}\",\"at\":{Now}}}");
        _b.Get<InvalidationSubscriber>().Handle("not json");
        Assert.Equal(HttpStatusCode.OK, (await _b.Client.SendAsync(session.Get("/users/me"))).StatusCode);
        Assert.Equal(before, _backend.IntrospectionCount);
    }
}
