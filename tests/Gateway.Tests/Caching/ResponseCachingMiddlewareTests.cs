using System.Net;
using Gateway.Caching;
using Gateway.Redis;
using Gateway.Tests.PolicyTesting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using TestInfrastructure;

namespace Gateway.Tests.Caching;

public sealed class ResponseCachingMiddlewareTests(RedisFixture redis) : IAsyncLifetime
{
    private RecordingBackend _backend = null!;
    private RedisClient _redis = null!;
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];

    public async ValueTask InitializeAsync()
    {
        _backend = await RecordingBackend.StartAsync();
        _redis = await TestRedis.ConnectAsync(redis.ConnectionString, 1000);
    }

    public async ValueTask DisposeAsync()
    {
        await _backend.DisposeAsync();
        await _redis.DisposeAsync();
    }

    private string User(string name) => name + "-" + _run;

    private static async Task<(HttpStatusCode Status, string? XCache, string Body, string? CacheControl)> GetAsync(
        PolicyTestHost host, string path, string user, string? cache = CachingGateway.Policy, string? org = null, bool withAuthorization = true)
    {
        var request = PolicyTestHost.Get(path, user: user, cache: cache, org: org);
        if (withAuthorization) request.Headers.Authorization = new("Bearer", "token-of-" + user);
        using var r = await host.Client.SendAsync(request);
        return (r.StatusCode, r.Headers.TryGetValues("X-Cache", out var x) ? x.Single() : null,
            await r.Content.ReadAsStringAsync(), r.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task SecondRequest_IsAHitServedWithoutTheBackend_EvenWithAnAuthorizationHeader()
    {
        CachingGateway.EchoIdentity(_backend);
        await using var host = await CachingGateway.StartAsync(_backend, _redis);

        var first = await GetAsync(host, "/auth/me?x=1", User("alice"));
        var second = await GetAsync(host, "/auth/me?x=1", User("alice"));
        var otherQuery = await GetAsync(host, "/auth/me?x=2", User("alice"));

        Assert.Equal((HttpStatusCode.OK, "MISS", "private"), (first.Status, first.XCache, first.CacheControl));
        Assert.Equal((HttpStatusCode.OK, "HIT", "private"), (second.Status, second.XCache, second.CacheControl));
        Assert.Equal(first.Body, second.Body);
        Assert.Equal("MISS", otherQuery.XCache);
        Assert.Equal(2, _backend.Requests.Count);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task TwoUsersSameUrlInterleaved_EachAlwaysGetsTheirOwnResponse(bool cacheOn)
    {
        CachingGateway.EchoIdentity(_backend);
        await using var host = await CachingGateway.StartAsync(_backend, _redis);
        string alice = User("alice"), bob = User("bob");
        var tasks = new List<Task<(string User, (HttpStatusCode Status, string? XCache, string Body, string? CacheControl) R)>>();
        for (int i = 0; i < 10; i++)
            foreach (var u in new[] { alice, bob })
                tasks.Add(Task.Run(async () => (u, await GetAsync(host, "/auth/me", u, cacheOn ? CachingGateway.Policy : null))));
        foreach (var (user, r) in await Task.WhenAll(tasks))
        {
            Assert.Equal(HttpStatusCode.OK, r.Status);
            Assert.StartsWith($"user={user};", r.Body);
            if (!cacheOn) Assert.Null(r.XCache);
        }
        // Concurrent misses for one key each call the backend (no coalescing, PrincipalOutputCachePolicy); once the
        // entries are in, each user's next request is a hit.
        if (cacheOn)
        {
            int calls = _backend.Requests.Count;
            Assert.InRange(calls, 2, 20);
            foreach (var u in new[] { alice, bob })
            {
                var again = await GetAsync(host, "/auth/me", u, CachingGateway.Policy);
                Assert.Equal(("HIT", true), (again.XCache, again.Body.StartsWith($"user={u};")));
            }
            Assert.Equal(calls, _backend.Requests.Count);
        }
        else Assert.Equal(20, _backend.Requests.Count);
    }

    [Fact]
    public async Task SameUserDifferentOrganisations_AreDifferentEntries()
    {
        CachingGateway.EchoIdentity(_backend);
        await using var host = await CachingGateway.StartAsync(_backend, _redis);
        var a = await GetAsync(host, "/orgs/x", User("carol"), CachingGateway.OrgPolicy, org: "o1");
        var b = await GetAsync(host, "/orgs/x", User("carol"), CachingGateway.OrgPolicy, org: "o2");
        Assert.Contains("org=o1", a.Body);
        Assert.Contains("org=o2", b.Body);
        Assert.Equal("MISS", b.XCache);
    }

    [Theory]
    [InlineData(500, null, null)]
    [InlineData(404, null, null)]
    [InlineData(200, "Set-Cookie", "a=b")]
    [InlineData(200, "Cache-Control", "no-store")]
    [InlineData(200, "Cache-Control", "max-age=0")]
    [InlineData(200, "Cache-Control", "max-age=5")]
    public async Task ResponsesThatMustNotBeCached_AreNotCached(int status, string? header, string? value)
    {
        _backend.Handler = ctx =>
        {
            ctx.Response.StatusCode = status;
            if (header is not null) ctx.Response.Headers[header] = value;
            return ctx.Response.WriteAsync("x");
        };
        await using var host = await CachingGateway.StartAsync(_backend, _redis);
        var first = await GetAsync(host, "/auth/me", User("dave"));
        var second = await GetAsync(host, "/auth/me", User("dave"));
        Assert.Equal((HttpStatusCode)status, second.Status);
        Assert.Equal("MISS", second.XCache);
        Assert.Equal(2, _backend.Requests.Count);
        if (value == "no-store") Assert.Contains("no-store", second.CacheControl);
        Assert.Equal("MISS", first.XCache);
    }

    [Fact]
    public async Task StateChangingRequests_AreNeverCached()
    {
        CachingGateway.EchoIdentity(_backend);
        await using var host = await CachingGateway.StartAsync(_backend, _redis);
        for (int i = 0; i < 2; i++)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/auth/me") { Content = new StringContent("{}") };
            request.Headers.Add(PolicyTestHost.UserHeader, User("erin"));
            request.Headers.Add(PolicyTestHost.CacheHeader, CachingGateway.Policy);
            using var r = await host.Client.SendAsync(request);
            Assert.False(r.Headers.Contains("X-Cache"));
        }
        Assert.Equal(2, _backend.Requests.Count);
    }

    /// <summary>
    /// Concurrent misses for one key each ask the backend and each get its answer; the next request is a hit. (Until
    /// 2026-12-05 they shared the first one's call, and were handed its entry even when that was not stored: empty when
    /// the body was too large or cut short, from before an eviction that refused to store it. A key holds one session,
    /// so sharing only saved that client its own duplicate calls; CacheKeyIdentityTests shows the empty answers.)
    /// </summary>
    [Fact]
    public async Task ConcurrentColdMisses_ForOneKey_EachGetTheBackendsAnswer_AndTheNextIsAHit()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _backend.Handler = async ctx =>
        {
            await gate.Task;
            await ctx.Response.WriteAsync("user=" + ctx.Request.Headers["X-User-Id"]);
        };
        await using var host = await CachingGateway.StartAsync(_backend, _redis);
        string user = User("gina");
        var requests = Enumerable.Range(0, 8).Select(_ => GetAsync(host, "/authz/check?perm=read", user)).ToArray();
        // All eight reach the backend while it holds its answers: none waits for another's (before the fix, 7 waited).
        await Poll.UntilAsync(() => _backend.Requests.Count == 8, "every miss reaches the backend");
        gate.SetResult();
        var results = await Task.WhenAll(requests);
        Assert.All(results, r => Assert.Equal((HttpStatusCode.OK, "user=" + user), (r.Status, r.Body)));
        Assert.Equal(8, _backend.Requests.Count);
        var next = await GetAsync(host, "/authz/check?perm=read", user);
        Assert.Equal(("HIT", "user=" + user), (next.XCache, next.Body));
        Assert.Equal(8, _backend.Requests.Count);
    }

    /// <summary>
    /// A request that began after an eviction gets the backend's answer from after it, also while an earlier request for
    /// the same key is still being answered from before it (that answer is not stored). Until 2026-12-05 the later request
    /// waited for the earlier one's call and was handed its pre-eviction answer.
    /// </summary>
    [Fact]
    public async Task ARequestThatBeganAfterAnEviction_GetsTheAnswerFromAfterIt()
    {
        int version = 1;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _backend.Handler = async ctx =>
        {
            string v = Volatile.Read(ref version).ToString();
            if (v == "1") await release.Task;
            await ctx.Response.WriteAsync("v=" + v);
        };
        await using var host = await CachingGateway.StartAsync(_backend, _redis);
        string user = User("jo");
        var before = GetAsync(host, "/auth/me", user, CachingGateway.Policy);
        await Poll.UntilAsync(() => _backend.Requests.Count >= 1, "the earlier request reaches the backend");
        Interlocked.Exchange(ref version, 2);
        await host.Services.GetRequiredService<ResponseCacheInvalidator>().OnInvalidationAsync("user-data", user, null);
        // The later request is answered while the earlier one is still held (before the fix it waited for it).
        var after = await GetAsync(host, "/auth/me", user, CachingGateway.Policy).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("v=2", after.Body);
        Assert.False(before.IsCompleted);
        release.SetResult();
        Assert.Equal("v=1", (await before).Body);
        var next = await GetAsync(host, "/auth/me", user, CachingGateway.Policy);
        Assert.Equal(("HIT", "v=2"), (next.XCache, next.Body));
    }

    [Fact]
    public async Task ProfileUpdateEviction_ReachesBothGateways()
    {
        int version = 1;
        CachingGateway.EchoIdentity(_backend, () => Volatile.Read(ref version).ToString());
        await using var redisB = await TestRedis.ConnectAsync(redis.ConnectionString, 1000);
        await using var a = await CachingGateway.StartAsync(_backend, _redis);
        await using var b = await CachingGateway.StartAsync(_backend, redisB);
        await a.Services.GetRequiredService<ResponseCacheInvalidator>().SubscribeAsync(_redis);
        await b.Services.GetRequiredService<ResponseCacheInvalidator>().SubscribeAsync(redisB);

        string user = User("hank");
        Assert.Equal("MISS", (await GetAsync(host: a, "/auth/me", user)).XCache);
        var fromB = await GetAsync(b, "/auth/me", user);
        Assert.Equal(("HIT", $"user={user};org=;v=1"), (fromB.XCache, fromB.Body)); // B reads A's entry from Redis
        Assert.Equal("HIT", (await GetAsync(a, "/auth/me", user)).XCache);

        Interlocked.Exchange(ref version, 2);
        string message = $$"""{"v":1,"kind":"user-data","userId":"{{user}}","reason":"profile-update","at":1763800000000}""";
        await Poll.UntilAsync(async () =>
        {
            await _redis.PublishAsync(ResponseCacheInvalidator.Channel, message);
            return (await GetAsync(a, "/auth/me", user)).Body.EndsWith("v=2") && (await GetAsync(b, "/auth/me", user)).Body.EndsWith("v=2");
        },
            "both gateways serve the updated profile");
    }
}
