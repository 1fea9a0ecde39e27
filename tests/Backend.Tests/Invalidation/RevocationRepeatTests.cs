using System.Net;
using Backend.Invalidation;
using Backend.Redis;
using Backend.Sessions;
using Backend.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using TestInfrastructure;

namespace Backend.Tests.Invalidation;

/// <summary>
/// A revocation Redis has not acknowledged answers 503 <c>revocation-pending</c>, whose body says to repeat the request
/// to wait for it. The repeat finds the change already made (nothing left to revoke, no such member, no live session),
/// so it must wait for the first try's pending entries before it answers: logout-all answered 204 and the others 404
/// while the first try's fences had not reached Redis. Here Redis refuses the first try's entries (held by id) until
/// the test releases them.
/// </summary>
public sealed class RevocationRepeatTests(PostgresFixture postgres, RedisFixture redis) : IAsyncLifetime
{
    private BackendApp _app = null!;
    private HttpClient _client = null!;
    private HoldingSessionCache _cache = null!;

    public async ValueTask InitializeAsync()
    {
        _app = new BackendApp(await postgres.CreateDatabaseAsync("b"), redis.ConnectionString,
            new Dictionary<string, string?> { ["Invalidation:ConfirmTimeout"] = "00:00:00.300" }, services: HoldingSessionCache.Install);
        _client = _app.CreateClient();
        _cache = _app.Service<HoldingSessionCache>();
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _app.DisposeAsync();
    }

    private long Now => _app.Time.GetUtcNow().ToUnixTimeSeconds();

    [Fact]
    public async Task LogoutAll_RepeatedWhileTheFirstIsUndelivered_IsNot204_UntilItIsDelivered()
    {
        var login = await _client.NewUserAsync();
        var me = await (await _client.SendAsync(HttpMethod.Get, "/auth/me", login.Token)).ReadJsonAsync();
        Guid session = me.GetProperty("sessionId").GetGuid();
        // Through the edge, which still accepts the session until the fence lands: a signed request.
        var final = await FirstTryThenRepeatsAsync(() => _client.SendAsync(GatewaySigner.Signed(HttpMethod.Post, "/auth/logout-all", login.UserId, session, Now)));
        Assert.Equal(HttpStatusCode.NoContent, final.StatusCode);
    }

    [Fact]
    public async Task SessionDelete_RepeatedWhileTheFirstIsUndelivered_Is503_Then404()
    {
        var login = await _client.NewUserAsync();
        await _client.LoginAsync(login.Email);
        Guid other = await _client.OtherSessionIdAsync(login.Token);
        var final = await FirstTryThenRepeatsAsync(() => _client.SendAsync(HttpMethod.Delete, $"/users/me/sessions/{other}", login.Token));
        await final.AssertProblemAsync(HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task MemberRemoval_RepeatedWhileTheFirstIsUndelivered_Is503_Then404()
    {
        var owner = await _client.NewUserAsync();
        var member = await _client.NewUserAsync();
        var created = await (await _client.SendAsync(HttpMethod.Post, "/orgs", owner.Token, new { name = "Acme" })).ReadJsonAsync();
        Guid org = created.GetProperty("id").GetGuid();
        await _client.AddMemberAsync(owner, org, member, "member");
        var final = await FirstTryThenRepeatsAsync(() => _client.SendAsync(HttpMethod.Delete, $"/orgs/{org}/members/{member.UserId}", owner.Token));
        await final.AssertProblemAsync(HttpStatusCode.NotFound, "not-found");
    }

    /// <summary>
    /// The first try with every delivery refused (503); a repeat while its entries are still refused (503 again, though
    /// the repeat's own entries pass); then, its entries released, the repeat's answer, given with the outbox empty.
    /// </summary>
    private async Task<HttpResponseMessage> FirstTryThenRepeatsAsync(Func<Task<HttpResponseMessage>> send)
    {
        _cache.HoldEverything();
        await (await send()).AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "revocation-pending");
        _cache.KeepHoldingOnlyWhatWasHeld();
        await (await send()).AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "revocation-pending");
        _cache.Release();
        var final = await send();
        Assert.Equal(0, await _app.Service<InvalidationOutbox>().CountAsync());
        return final;
    }

    /// <summary>The real Redis cache, except that it refuses the outbox entries the test holds (as an unreachable Redis would).</summary>
    private sealed class HoldingSessionCache(RedisSessionCache inner) : ISessionCache
    {
        private readonly Lock _gate = new();
        private readonly HashSet<long> _held = [];
        private bool _holdAll;

        public void HoldEverything() { lock (_gate) _holdAll = true; }

        /// <summary>Later entries pass; the ones refused so far stay refused.</summary>
        public void KeepHoldingOnlyWhatWasHeld() { lock (_gate) _holdAll = false; }

        public void Release() { lock (_gate) { _holdAll = false; _held.Clear(); } }

        public Task SetAsync(HashedPrincipal principal) => inner.SetAsync(principal);

        public Task<bool> ApplyAsync(OutboxEntry entry)
        {
            lock (_gate)
            {
                if (_holdAll) _held.Add(entry.Id);
                if (_held.Contains(entry.Id)) return Task.FromResult(false);
            }
            return inner.ApplyAsync(entry);
        }

        public static void Install(IServiceCollection services)
        {
            services.AddSingleton<RedisSessionCache>();
            services.AddSingleton<HoldingSessionCache>();
            services.AddSingleton<ISessionCache>(sp => sp.GetRequiredService<HoldingSessionCache>());
        }
    }
}
