using Gateway.Contracts;
using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Gateway.Redis;
using Gateway.Sessions;
using Gateway.Tests.Support;
using Microsoft.Extensions.Options;
using TestInfrastructure;

namespace Gateway.Tests.Sessions;

/// <summary>
/// Issue 14.3: random well-formed tokens from one client must not each cost an introspection (a Postgres query).
/// The real gateway in front of the counting fake backend; clients are told apart by <c>X-Forwarded-For</c> from a
/// trusted proxy (the test's loopback connection).
/// </summary>
public sealed class InvalidTokenFloodTests(RedisFixture redis) : IAsyncLifetime
{
    private const int Budget = 10;
    private const string Flooder = "198.51.100.7";
    private const string OtherClient = "203.0.113.9";
    private FakeSessionBackend _backend = null!;
    private GatewayInstance _gateway = null!;

    public async ValueTask InitializeAsync()
    {
        _backend = await FakeSessionBackend.StartAsync();
        _gateway = await GatewayInstance.StartAsync(_backend.BaseUrl, redis.ConnectionString, RouteFiles.CreateTemp(), null,
            "--RateLimiting:TrustedProxies:0=127.0.0.1", $"--Sessions:InvalidTokenBudget:Limit={Budget}",
            "--Sessions:InvalidTokenBudget:Window=00:10:00", "--Sessions:NegativeTtl=00:05:00");
        await Poll.UntilAsync(() => _gateway.Get<IRedisClient>().IsAvailable, "the gateway reaches Redis");
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _backend.DisposeAsync();
    }

    private async Task<HttpResponseMessage> SendAsync(string token, string client)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/users/me/sessions");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", client);
        return await _gateway.Client.SendAsync(request);
    }

    /// <summary>Sends <paramref name="count"/> fresh random tokens from <see cref="Flooder"/>, 8 at a time; returns the statuses.</summary>
    private async Task<ConcurrentBag<HttpStatusCode>> FloodAsync(int count, ConcurrentBag<HttpResponseMessage>? keep = null)
    {
        var statuses = new ConcurrentBag<HttpStatusCode>();
        int next = -1, kept = 0;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref next) < count)
            {
                var response = await SendAsync(Trust.SessionToken.Create(), Flooder);
                statuses.Add(response.StatusCode);
                // Exactly one 429 is kept for inspection: the flag is taken atomically (eight senders race for it).
                if (keep is not null && response.StatusCode == HttpStatusCode.TooManyRequests && Interlocked.Exchange(ref kept, 1) == 0) keep.Add(response);
                else response.Dispose();
            }
        })));
        return statuses;
    }

    [Fact]
    public async Task ThreeThousandRandomTokensFromOneClient_CauseAtMostTheBudgetOfIntrospections_TheRestAre429()
    {
        var kept = new ConcurrentBag<HttpResponseMessage>();
        var statuses = await FloodAsync(3000, kept);

        Assert.InRange(_backend.IntrospectionCount, 1, Budget);
        Assert.Equal(_backend.IntrospectionCount, statuses.Count(s => s == HttpStatusCode.Unauthorized));
        Assert.Equal(3000 - _backend.IntrospectionCount, statuses.Count(s => s == HttpStatusCode.TooManyRequests));

        using var throttled = Assert.Single(kept);
        Assert.Equal("application/problem+json", throttled.Content.Headers.ContentType?.MediaType);
        Assert.True(throttled.Headers.RetryAfter?.Delta is { TotalSeconds: >= 1 }, "Retry-After in whole seconds");
        using var problem = JsonDocument.Parse(await throttled.Content.ReadAsStringAsync());
        Assert.Equal("https://gateway.dev/problems/too-many-invalid-tokens", problem.RootElement.GetProperty("type").GetString());
        Assert.Equal(429, problem.RootElement.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task DuringAFlood_ValidSessionsInL1OrRedisFromTheSameClient_AndNewSessionsFromOtherClients_AreServed()
    {
        var inL1 = TestSession.Create();
        var inL2 = TestSession.Create();
        var fromOtherClient = TestSession.Create();
        var coldFromFlooder = TestSession.Create();
        foreach (var s in new[] { inL1, fromOtherClient, coldFromFlooder }) _backend.Add(s);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(inL1.Token, Flooder)).StatusCode);   // now in L1, and refunded
        // In Redis only (as another instance or the backend's login would have left it): this instance's L1 has never seen it.
        await _gateway.Get<IRedisClient>().SetAsync(SessionRedisContract.SessionKey(inL2.Hex), inL2.Json, TimeSpan.FromMinutes(5));
        string knownBad = Trust.SessionToken.Create();
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(knownBad, Flooder)).StatusCode);   // now negatively cached

        var flood = FloodAsync(3000);
        await Poll.UntilAsync(async () => (await SendAsync(Trust.SessionToken.Create(), Flooder)).StatusCode == HttpStatusCode.TooManyRequests,
            "the flooder's budget is spent");

        // Counted per token: flood requests admitted before the budget ran out may still be introspecting meanwhile (a
        // snapshot of the total raced them in CI: 10, then 11).
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(inL1.Token, Flooder)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(inL2.Token, Flooder)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(knownBad, Flooder)).StatusCode);   // negative L1 hit: free, still 401
        Assert.Equal(1, _backend.IntrospectionsOf(inL1.Hex));   // the one before the flood
        Assert.Equal(0, _backend.IntrospectionsOf(inL2.Hex));   // found in Redis
        Assert.Equal(1, _backend.IntrospectionsOf(Trust.SessionToken.Hash(knownBad)));   // the one before the flood
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(fromOtherClient.Token, OtherClient)).StatusCode);
        Assert.Equal(1, _backend.IntrospectionsOf(fromOtherClient.Hex));
        // A session nobody has cached yet needs a lookup, and the flooder's address has none left: by design (docs/gateway.md).
        Assert.Equal(HttpStatusCode.TooManyRequests, (await SendAsync(coldFromFlooder.Token, Flooder)).StatusCode);
        Assert.Equal(0, _backend.IntrospectionsOf(coldFromFlooder.Hex));

        await flood;
        Assert.InRange(_backend.IntrospectionCount, 1, Budget + 2);   // the flooder's budget, the two valid lookups above
    }

    [Fact]
    public async Task InvalidBudgetOptions_StopTheGatewayAtStartWithTheSettingNamed()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayInstance.StartAsync(_backend.BaseUrl,
            redis.ConnectionString, RouteFiles.CreateTemp(), null, "--Sessions:InvalidTokenBudget:Limit=0"));
        Assert.Contains("Sessions:InvalidTokenBudget:Limit", error.Message);
    }
}
