using Gateway.Contracts;
using System.Net;
using Gateway.Caching;
using Gateway.Redis;
using Gateway.Sessions;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Http;
using TestInfrastructure;

namespace Gateway.Tests.Caching;

/// <summary>
/// The real gateway with the shipped route classes (<c>GET /auth/me</c> cached): a cached response is served only to the
/// identity it was made for, down to the session, and evictions by user still reach every session's entries.
/// </summary>
public sealed class CacheKeyIdentityTests(RedisFixture redis) : IAsyncLifetime
{
    private FakeSessionBackend _backend = null!;
    private GatewayInstance _gateway = null!;

    public async ValueTask InitializeAsync()
    {
        _backend = await FakeSessionBackend.StartAsync();
        // What the real /auth/me does: answer from the signed identity headers, session id included.
        _backend.Proxied = ctx => ctx.Response.WriteAsync(
            $"user={ctx.Request.Headers["X-User-Id"]};session={ctx.Request.Headers["X-Session-Id"]}");
        _gateway = await GatewayInstance.StartAsync(_backend.BaseUrl, redis.ConnectionString, RouteFiles.CreateTemp());
        await Poll.UntilAsync(() => _gateway.Get<IRedisClient>().IsAvailable && _gateway.Get<InvalidationSubscriber>().IsSubscribed,
            "the gateway reaches Redis and is subscribed");
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _backend.DisposeAsync();
    }

    /// <summary>A GET of the cached <c>/auth/me</c> (or another spelling of it, or with a query).</summary>
    private async Task<(HttpStatusCode Status, string? XCache, string Body)> MeAsync(TestSession session, string target = "/auth/me")
    {
        using var response = await _gateway.Client.SendAsync(session.Get(target));
        return (response.StatusCode, response.Headers.TryGetValues("X-Cache", out var x) ? x.Single() : null,
            await response.Content.ReadAsStringAsync());
    }

    private static string Expected(TestSession s) => $"user={s.UserId};session={s.SessionId}";

    /// <summary>
    /// A key part ASP.NET Core's output cache cannot hold (its delimiters, U+001E and U+001F, sent in an Accept header,
    /// or decoded from the query while the key held the parsed query) makes the framework give up the key, and its
    /// request coalescing handed two users' concurrent misses one answer. Two users asking at once, while the backend
    /// is slow, must each get their own.
    /// </summary>
    [Theory]
    [InlineData("Accept", "text/plain\u001e")]
    [InlineData("Accept-Language", "fr\u001f")]
    [InlineData("Origin", "http://app.example\u001e")]
    // Kept from when the key held the decoded query: now keyed raw, where the character cannot appear.
    [InlineData(null, null, "?x=%1E")]
    public async Task AKeyTheCacheCannotHold_IsNeverSharedBetweenConcurrentUsers(string? header, string? value, string query = "")
    {
        var gate = new TaskCompletionSource();
        int arrived = 0;
        _backend.Proxied = async ctx =>
        {
            if (Interlocked.Increment(ref arrived) == 1) await gate.Task.WaitAsync(TimeSpan.FromSeconds(10));
            await ctx.Response.WriteAsync($"user={ctx.Request.Headers["X-User-Id"]};session={ctx.Request.Headers["X-Session-Id"]}");
        };
        var a = TestSession.Create();
        var b = TestSession.Create();
        _backend.Add(a);
        _backend.Add(b);

        async Task<string> Me(TestSession session)
        {
            var request = session.Get("/auth/me" + query);
            if (header is not null) request.Headers.TryAddWithoutValidation(header, value);
            using var response = await _gateway.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await response.Content.ReadAsStringAsync();
        }

        var first = Me(a);
        await Poll.UntilAsync(() => Task.FromResult(Volatile.Read(ref arrived) >= 1), "a's request reaches the backend");
        var second = Me(b);
        // b's request either reaches the backend too, or waits on a's: give it the time to do either, then let a go.
        await Task.WhenAny(Poll.UntilAsync(() => Task.FromResult(Volatile.Read(ref arrived) >= 2), "b's request reaches the backend", TimeSpan.FromSeconds(2)));
        gate.SetResult();

        Assert.Equal(Expected(a), await first);
        Assert.Equal(Expected(b), await second);
    }

    /// <summary>
    /// Paths are case-sensitive and reach the backend as sent (routing matches them without case): two spellings are
    /// two entries, each with the answer to its own path.
    /// </summary>
    [Fact]
    public async Task PathsThatDifferOnlyInCase_AreTwoEntries()
    {
        _backend.Proxied = ctx => ctx.Response.WriteAsync("path=" + ctx.Request.Path.Value);
        var a = TestSession.Create();
        _backend.Add(a);

        Assert.Equal((HttpStatusCode.OK, "MISS", "path=/auth/me"), await MeAsync(a, "/auth/me"));
        Assert.Equal((HttpStatusCode.OK, "MISS", "path=/Auth/Me"), await MeAsync(a, "/Auth/Me"));
        Assert.Equal((HttpStatusCode.OK, "HIT", "path=/auth/me"), await MeAsync(a, "/auth/me"));
        Assert.Equal((HttpStatusCode.OK, "HIT", "path=/Auth/Me"), await MeAsync(a, "/Auth/Me"));
    }

    /// <summary>
    /// The query is held as sent: names differing in case, parameters in another order and repeated values in another
    /// order are different requests to a backend that reads them so, each with its own entry; the same query is a hit.
    /// </summary>
    [Fact]
    public async Task QueriesThatDifferOnlyInCaseOrOrder_AreSeparateEntries()
    {
        _backend.Proxied = ctx => ctx.Response.WriteAsync("query=" + ctx.Request.QueryString.Value);
        var a = TestSession.Create();
        _backend.Add(a);
        string[] queries = ["?a=1", "?A=1", "?x=1&y=2", "?y=2&x=1", "?x=1&x=2", "?x=2&x=1"];
        foreach (var query in queries) Assert.Equal((HttpStatusCode.OK, "MISS", "query=" + query), await MeAsync(a, "/auth/me" + query));
        foreach (var query in queries) Assert.Equal((HttpStatusCode.OK, "HIT", "query=" + query), await MeAsync(a, "/auth/me" + query));
        Assert.Equal(queries.Length, _backend.ProxiedTo("/auth/me").Length);
    }

    /// <summary>
    /// Two routes on one path, told apart by a header, each adding its own header for the backend: one principal's
    /// entry made through one route is never the answer through the other.
    /// </summary>
    [Fact]
    public async Task TwoRoutesOnOnePath_AreTwoEntries()
    {
        string routes = RouteFiles.CreateTemp(j =>
        {
            j["routes"]!["shared-a"] = System.Text.Json.Nodes.JsonNode.Parse("""
                { "path": "/shared/{**rest}", "class": "critical-auth-cached", "cluster": "backend",
                  "headers": [{ "name": "X-Tenant", "values": ["a"], "mode": "ExactHeader" }],
                  "requestHeaders": { "set": { "X-Team": "a" } } }
                """);
            j["routes"]!["shared-b"] = System.Text.Json.Nodes.JsonNode.Parse("""
                { "path": "/shared/{**rest}", "class": "critical-auth-cached", "cluster": "backend",
                  "headers": [{ "name": "X-Tenant", "values": ["b"], "mode": "ExactHeader" }],
                  "requestHeaders": { "set": { "X-Team": "b" } } }
                """);
        });
        await using var gateway = await GatewayInstance.StartAsync(_backend.BaseUrl, redis.ConnectionString, routes);
        _backend.Proxied = ctx => ctx.Response.WriteAsync("team=" + ctx.Request.Headers["X-Team"]);
        var a = TestSession.Create();
        _backend.Add(a);
        async Task<(string? XCache, string Body)> Get(string tenant)
        {
            var request = a.Get("/shared/x");
            request.Headers.TryAddWithoutValidation("X-Tenant", tenant);
            using var response = await gateway.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return (response.Headers.TryGetValues("X-Cache", out var x) ? x.Single() : null, await response.Content.ReadAsStringAsync());
        }

        Assert.Equal(("MISS", "team=a"), await Get("a"));
        Assert.Equal(("MISS", "team=b"), await Get("b"));
        Assert.Equal(("HIT", "team=a"), await Get("a"));
        Assert.Equal(("HIT", "team=b"), await Get("b"));
    }

    [Fact]
    public async Task TwoSessionsOfOneUser_EachGetsTheResponseOfItsOwnSession()
    {
        string userId = Guid.NewGuid().ToString();
        var a = TestSession.Create(userId: userId);
        var b = TestSession.Create(userId: userId);
        _backend.Add(a);
        _backend.Add(b);

        Assert.Equal((HttpStatusCode.OK, "MISS", Expected(a)), await MeAsync(a));
        Assert.Equal((HttpStatusCode.OK, "HIT", Expected(a)), await MeAsync(a));
        Assert.Equal((HttpStatusCode.OK, "MISS", Expected(b)), await MeAsync(b));
        Assert.Equal((HttpStatusCode.OK, "HIT", Expected(b)), await MeAsync(b));
        Assert.Equal((HttpStatusCode.OK, "HIT", Expected(a)), await MeAsync(a));
        Assert.Equal(2, _backend.ProxiedTo("/auth/me").Length);
    }

    [Fact]
    public async Task TwoUsers_EachGetsTheirOwnResponse()
    {
        var alice = TestSession.Create();
        var bob = TestSession.Create();
        _backend.Add(alice);
        _backend.Add(bob);

        Assert.Equal((HttpStatusCode.OK, "MISS", Expected(alice)), await MeAsync(alice));
        Assert.Equal((HttpStatusCode.OK, "HIT", Expected(alice)), await MeAsync(alice));
        Assert.Equal((HttpStatusCode.OK, "MISS", Expected(bob)), await MeAsync(bob));
        Assert.Equal((HttpStatusCode.OK, "HIT", Expected(bob)), await MeAsync(bob));
    }

    /// <summary>Two sessions of <paramref name="userId"/>, each with its <c>/auth/me</c> cached (a second call is a hit).</summary>
    private async Task<(TestSession A, TestSession B)> TwoCachedSessionsAsync(string userId)
    {
        var a = TestSession.Create(userId: userId);
        var b = TestSession.Create(userId: userId);
        _backend.Add(a);
        _backend.Add(b);
        foreach (var s in new[] { a, b })
        {
            await MeAsync(s);
            Assert.Equal("HIT", (await MeAsync(s)).XCache);
        }
        return (a, b);
    }

    [Fact]
    public async Task UserDataInvalidation_EvictsTheEntriesOfEverySessionOfTheUser()
    {
        string userId = Guid.NewGuid().ToString();
        var (a, b) = await TwoCachedSessionsAsync(userId);

        await _gateway.Get<IRedisClient>().PublishAsync(SessionRedisContract.InvalidationChannel,
            $$"""{"v":1,"kind":"user-data","userId":"{{userId}}","reason":"profile-update","at":{{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}}}""");

        await Poll.UntilAsync(async () => (await MeAsync(a)).XCache == "MISS", "the first session's entry is evicted");
        Assert.Equal((HttpStatusCode.OK, "MISS", Expected(b)), await MeAsync(b));
    }

    [Fact]
    public async Task LogoutOfOneSession_EvictsItsEntries_AndTheOtherSessionRefillsItsOwn()
    {
        string userId = Guid.NewGuid().ToString();
        var (a, b) = await TwoCachedSessionsAsync(userId);
        var redisClient = _gateway.Get<IRedisClient>();
        // The package's tag set (a sorted set of cache keys) under the gateway's prefix.
        string userTag = ResponseCachingServiceCollectionExtensions.RedisInstanceName + "__MSOCT_user:" + userId;
        async Task<long> TaggedAsync() =>
            (long)(await redisClient.EvaluateAsync("return redis.call('ZCARD', KEYS[1])", [userTag], [])).Value!;
        Assert.Equal(2, await TaggedAsync());

        // What the backend does on logout: forget the session, delete its L2 key, publish.
        _backend.Sessions.TryRemove(a.Hex, out _);
        await redisClient.DeleteAsync(SessionRedisContract.SessionKey(a.Hex));
        await redisClient.PublishAsync(SessionRedisContract.InvalidationChannel,
            $$"""{"v":1,"kind":"session","sessionHash":"{{a.Hex}}","userId":"{{userId}}","reason":"logout","at":{{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}}}""");

        await Poll.UntilAsync(async () => (await MeAsync(a)).Status == HttpStatusCode.Unauthorized
            && await TaggedAsync() == 0, "the logged-out session is rejected and the user's entries evicted");
        Assert.Equal((HttpStatusCode.OK, "MISS", Expected(b)), await MeAsync(b));
        Assert.Equal((HttpStatusCode.OK, "HIT", Expected(b)), await MeAsync(b));
    }

    /// <summary>
    /// A backend that fails mid-body leaves the gateway a part of the answer. The client's connection is cut, so it
    /// knows; the cache must not store the part and serve it, complete-looking, to the next request. Until 2026-12-05
    /// it did (a chunked JSON answer has no Content-Length to compare with), for the entry's whole TTL.
    /// </summary>
    [Fact]
    public async Task ABodyTheBackendCutOff_IsNeverStored()
    {
        int calls = 0;
        var firstChunkRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _backend.Proxied = async ctx =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                await ctx.Response.WriteAsync("{\"user\":\"");
                await ctx.Response.Body.FlushAsync();
                await firstChunkRead.Task.WaitAsync(TimeSpan.FromSeconds(10));   // the client has the headers and a part
                ctx.Abort();
                return;
            }
            await ctx.Response.WriteAsync(Expected(ctx));
        };
        var a = TestSession.Create();
        _backend.Add(a);

        using (var cut = await _gateway.Client.SendAsync(a.Get("/auth/me"), HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, cut.StatusCode);
            await using var body = await cut.Content.ReadAsStreamAsync();
            Assert.True(await body.ReadAsync(new byte[16]) > 0);
            firstChunkRead.SetResult();
            await Assert.ThrowsAnyAsync<Exception>(async () => { while (await body.ReadAsync(new byte[1024]) > 0) { } });
        }
        Assert.Equal((HttpStatusCode.OK, "MISS", Expected(a)), await MeAsync(a));
        Assert.Equal((HttpStatusCode.OK, "HIT", Expected(a)), await MeAsync(a));
        Assert.Equal(2, calls);
    }

    /// <summary>
    /// Concurrent misses of one session each get the backend's whole answer, also when that answer is not stored (here: over
    /// the cache's <c>MaximumBodySize</c>). Until 2026-12-05 they waited for the first one's call and the framework handed
    /// them its entry, which had no body: <c>200</c>, <c>X-Cache: HIT</c>, empty.
    /// </summary>
    [Fact]
    public async Task ConcurrentMisses_OfAnAnswerTooLargeToStore_EachGetTheWholeAnswer()
    {
        string large = new('x', 300 * 1024);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int arrived = 0;
        _backend.Proxied = async ctx =>
        {
            if (Interlocked.Increment(ref arrived) == 1) await release.Task.WaitAsync(TimeSpan.FromSeconds(10));
            await ctx.Response.WriteAsync(large);
        };
        var a = TestSession.Create();
        _backend.Add(a);

        var first = MeAsync(a);
        await Poll.UntilAsync(() => Volatile.Read(ref arrived) == 1, "the first miss reaches the backend");
        var others = Enumerable.Range(0, 3).Select(_ => MeAsync(a)).ToArray();
        // All four reach the backend while it holds the first answer (before the fix the others waited for it instead).
        await Poll.UntilAsync(() => Volatile.Read(ref arrived) == 4, "every miss reaches the backend");
        release.SetResult();

        foreach (var (status, _, body) in await Task.WhenAll([first, .. others]))
        {
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal(large.Length, body.Length);
        }
    }

    /// <summary>A hit answers with the id of the request it answers (until 2026-12-05: the id of the request that filled the entry).</summary>
    [Fact]
    public async Task AHit_CarriesItsOwnRequestId()
    {
        var a = TestSession.Create();
        _backend.Add(a);
        async Task<(string? XCache, string Id)> SendAsync(string id)
        {
            var request = a.Get("/auth/me");
            request.Headers.TryAddWithoutValidation("X-Request-Id", id);
            using var response = await _gateway.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return (response.Headers.GetValues("X-Cache").Single(), response.Headers.GetValues("X-Request-Id").Single());
        }
        Assert.Equal(("MISS", "first-request-1"), await SendAsync("first-request-1"));
        Assert.Equal(("HIT", "second-request-2"), await SendAsync("second-request-2"));
    }

    /// <summary>
    /// A GET may carry a body, which the key cannot hold and the backend may answer by: such a request is not cached, nor
    /// served from the cache. Until 2026-12-05 the second GET got the first one's answer.
    /// </summary>
    [Fact]
    public async Task AGetWithABody_IsNeitherStoredNorServedFromTheCache()
    {
        _backend.Proxied = ctx => ctx.Response.WriteAsync("body=" + RecordingBackend.Recorded(ctx).Body);
        var a = TestSession.Create();
        _backend.Add(a);
        async Task<(string? XCache, string Body)> GetWithBodyAsync(string body)
        {
            var request = a.Get("/auth/me");
            request.Content = new StringContent(body);
            using var response = await _gateway.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return (response.Headers.TryGetValues("X-Cache", out var x) ? x.Single() : null, await response.Content.ReadAsStringAsync());
        }
        Assert.Equal("body=first", (await GetWithBodyAsync("first")).Body);
        var second = await GetWithBodyAsync("second");
        Assert.Equal("body=second", second.Body);
        Assert.NotEqual("HIT", second.XCache);
    }

    private static string Expected(HttpContext ctx) => $"user={ctx.Request.Headers["X-User-Id"]};session={ctx.Request.Headers["X-Session-Id"]}";
}
