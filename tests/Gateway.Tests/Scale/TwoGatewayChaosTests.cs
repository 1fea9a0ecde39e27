using Gateway.Contracts;
using System.Net;
using Gateway.Redis;
using Gateway.Sessions;
using Gateway.Tests.Support;
using TestInfrastructure;

namespace Gateway.Tests.Scale;

[CollectionDefinition(nameof(ChaosCollection), DisableParallelization = true)]
public sealed class ChaosCollection;

/// <summary>
/// Two gateways, one Redis, one backend, under load. Gateway A is a separate process killed with SIGKILL mid-load;
/// B must keep answering every request, serve the sessions only A had validated (from Redis: no session lives only in
/// a gateway's memory), and reject a token revoked after the crash as soon as the pub/sub message arrives
/// (docs/scale-out.md: the bound is the pub/sub delivery, and <c>Sessions:L1Ttl</c> if the subscription is down).
/// </summary>
/// <remarks>Runs alone: the load it generates would otherwise slow the timing-sensitive tests around it.</remarks>
[Collection(nameof(ChaosCollection))]
public sealed class TwoGatewayChaosTests(RedisFixture redis) : IAsyncLifetime
{
    private FakeSessionBackend _backend = null!;
    private GatewayProcess _a = null!;
    private GatewayInstance _b = null!;
    private HttpClient _clientA = null!;

    public async ValueTask InitializeAsync()
    {
        _backend = await FakeSessionBackend.StartAsync();
        // The shipped per-user limit (100/s) would answer this load 429: raise it, the test is about the crash.
        string routes = RouteFiles.CreateTemp(j =>
        {
            j["rateLimitPolicies"]!["per-user"]!["limit"] = 1_000_000;
            j["rateLimitPolicies"]!["per-user"]!["burst"] = 1_000_000;
        });
        _a = await GatewayProcess.StartAsync(_backend.BaseUrl, redis.ConnectionString, routes);
        // L1Ttl far beyond the test: a rejection within seconds can only come from the pub/sub invalidation.
        _b = await GatewayInstance.StartAsync(_backend.BaseUrl, redis.ConnectionString, routes, null, "--Sessions:L1Ttl=00:10:00");
        _clientA = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = new Uri(_a.BaseUrl), Timeout = TimeSpan.FromSeconds(5) };
        await Poll.UntilAsync(() => _b.Get<InvalidationSubscriber>().IsSubscribed && _b.Get<IRedisClient>().IsAvailable, "B subscribed and reaching Redis");
    }

    public async ValueTask DisposeAsync()
    {
        _clientA.Dispose();
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _backend.DisposeAsync();
    }

    [Fact]
    public async Task KillingOneGatewayDuringLoad_SurvivorServesEverySession_AndRejectsARevokedToken()
    {
        var shared = Enumerable.Range(0, 10).Select(_ => TestSession.Create()).ToArray();   // seen by both
        var onlyA = Enumerable.Range(0, 10).Select(_ => TestSession.Create()).ToArray();    // validated by A alone
        foreach (var s in shared.Concat(onlyA)) _backend.Add(s);
        foreach (var s in onlyA)
            Assert.Equal(HttpStatusCode.OK, (await _clientA.SendAsync(s.Get("/users/me"))).StatusCode);
        foreach (var s in onlyA)
            await Poll.UntilAsync(async () => (await _b.Get<IRedisClient>().GetStringAsync(SessionRedisContract.SessionKey(s.Hex))).Value is not null,
                "A wrote its sessions to Redis");

        // Load: 8 clients, round-robin over both gateways like an L4 balancer, until stopped.
        using var stop = new CancellationTokenSource();
        int bOk = 0, bFailed = 0, aOk = 0, aFailed = 0;
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var load = Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
        {
            for (int i = worker; !stop.IsCancellationRequested; i++)
            {
                var session = shared[i % shared.Length];
                if (i % 2 == 0)
                {
                    try
                    {
                        var status = (await _clientA.SendAsync(session.Get("/users/me"))).StatusCode;
                        if (status == HttpStatusCode.OK) Interlocked.Increment(ref aOk); else Interlocked.Increment(ref aFailed);
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { Interlocked.Increment(ref aFailed); }
                }
                else
                {
                    try
                    {
                        var status = (await _b.Client.SendAsync(session.Get("/users/me"))).StatusCode;
                        if (status == HttpStatusCode.OK) Interlocked.Increment(ref bOk);
                        else { Interlocked.Increment(ref bFailed); failures.Enqueue($"B answered {(int)status}"); }
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                    {
                        Interlocked.Increment(ref bFailed);
                        failures.Enqueue("B: " + e.Message);
                    }
                }
            }
        })).ToArray();

        await Poll.UntilAsync(() => Volatile.Read(ref aOk) >= 200 && Volatile.Read(ref bOk) >= 200, "both gateways serve the load");
        _a.Kill();
        Assert.True(_a.HasExited);
        int bOkAtKill = Volatile.Read(ref bOk);
        await Poll.UntilAsync(() => Volatile.Read(ref bOk) >= bOkAtKill + 500, "B keeps serving after A died", TimeSpan.FromSeconds(60));
        await stop.CancelAsync();
        await Task.WhenAll(load);

        Assert.True(bFailed == 0, $"the survivor failed {bFailed} of {bOk + bFailed} requests: {string.Join("; ", failures.Take(5))}");
        Assert.True(aFailed > 0, "requests to the killed gateway should have failed (is the kill real?)");

        // B's Redis breaker opens on the first call that misses its time-box, and on two busy cores the kill's storm of
        // refused connections can cause one (CI: B then introspected all ten sessions, as designed while Redis is
        // "down"). Its probe closes the breaker again; the claim below is about Redis being reachable.
        await Poll.UntilAsync(() => _b.Get<IRedisClient>().IsAvailable, "B reaches Redis again after the load", TimeSpan.FromSeconds(30));

        // No session lost: every session validated only by A is served by B, from Redis, without asking the backend.
        int introspections = _backend.IntrospectionCount;
        foreach (var s in onlyA)
            Assert.Equal(HttpStatusCode.OK, (await _b.Client.SendAsync(s.Get("/users/me"))).StatusCode);
        Assert.Equal(introspections, _backend.IntrospectionCount);

        // Revoked after the crash (as the backend does: delete the Redis key, then publish): B rejects it within the bound.
        var revoked = shared[0];
        Assert.Equal(HttpStatusCode.OK, (await _b.Client.SendAsync(revoked.Get("/users/me"))).StatusCode);   // in B's L1
        _backend.Sessions.TryRemove(revoked.Hex, out _);
        var redisClient = _b.Get<IRedisClient>();
        await redisClient.DeleteAsync(SessionRedisContract.SessionKey(revoked.Hex));
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await redisClient.PublishAsync(SessionRedisContract.InvalidationChannel,
            $"{{\"v\":1,\"kind\":\"session\",\"sessionHash\":\"{revoked.Hex}\",\"userId\":\"{revoked.UserId}\",\"reason\":\"logout\",\"at\":{now}}}");
        await Poll.UntilAsync(async () => (await _b.Client.SendAsync(revoked.Get("/users/me"))).StatusCode == HttpStatusCode.Unauthorized,
            "the survivor rejects the revoked token (pub/sub bound; L1Ttl is 10 min here)", TimeSpan.FromSeconds(5));
        // Every other session is still served.
        Assert.Equal(HttpStatusCode.OK, (await _b.Client.SendAsync(shared[1].Get("/users/me"))).StatusCode);
    }
}
