using System.Net;
using System.Net.Http.Json;
using Backend.Invalidation;
using Backend.Sessions;
using Backend.Tests.Support;
using Gateway.Contracts;
using Gateway.Trust;
using TestInfrastructure;

namespace Backend.Tests.Invalidation;

/// <summary>
/// Every writer of session principals, interleaved deterministically with a revocation: the writer reads Postgres
/// before the revocation commits and writes Redis after it returned. Redis must refuse the stale principal, or every
/// gateway would accept the revoked token again until the key expires.
/// </summary>
public sealed class StaleWriterTests(PostgresFixture postgres, RedisFixture redis) : IAsyncLifetime
{
    private BackendApp _app = null!;
    private HttpClient _client = null!;
    private GatedSessionCache _gate = null!;
    private InvalidationListener _redis = null!;

    public async ValueTask InitializeAsync()
    {
        _app = new BackendApp(await postgres.CreateDatabaseAsync("b"), redis.ConnectionString, services: GatedSessionCache.Install);
        _client = _app.CreateClient();
        _gate = _app.Service<GatedSessionCache>();
        _redis = await InvalidationListener.StartAsync(redis.ConnectionString);
    }

    public async ValueTask DisposeAsync()
    {
        _gate.Open();
        await _redis.DisposeAsync();
        _client.Dispose();
        await _app.DisposeAsync();
    }

    public static TheoryData<string> Writers => ["introspection", "touch", "last-seen flush"];

    [Theory]
    [MemberData(nameof(Writers))]
    public async Task WriterThatReadBeforeLogout_WritesAfterIt_RedisRefusesThePrincipal(string writer)
    {
        var login = await _client.NewUserAsync();
        Guid sessionId = (await (await _client.SendAsync(HttpMethod.Get, "/auth/me", login.Token)).ReadJsonAsync()).GetProperty("sessionId").GetGuid();

        _gate.Close();
        var write = StartWriter(writer, login, sessionId);
        await _gate.WriterHeld.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(HttpStatusCode.NoContent, (await _client.SendAsync(HttpMethod.Post, "/auth/logout", login.Token)).StatusCode);
        Assert.False(await _redis.Db.KeyExistsAsync(SessionRedisContract.SessionKey(login.Hash)));

        _gate.Open();
        await write.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.False(await _redis.Db.KeyExistsAsync(SessionRedisContract.SessionKey(login.Hash)), $"the {writer} wrote a revoked session back");
        Assert.Equal(SessionRedisContract.Revoked, (string?)await _redis.Db.StringGetAsync(SessionRedisContract.FenceKey(login.Hash)));
    }

    [Theory]
    [MemberData(nameof(Writers))]
    public async Task WriterOfALiveSession_StillWritesThrough(string writer)
    {
        var login = await _client.NewUserAsync();
        Guid sessionId = (await (await _client.SendAsync(HttpMethod.Get, "/auth/me", login.Token)).ReadJsonAsync()).GetProperty("sessionId").GetGuid();
        await _redis.Db.KeyDeleteAsync(SessionRedisContract.SessionKey(login.Hash));

        await StartWriter(writer, login, sessionId).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(await _redis.Db.KeyExistsAsync(SessionRedisContract.SessionKey(login.Hash)));
    }

    [Fact]
    public async Task LoginThatReadBeforeLogoutAll_WritesAfterIt_RedisRefusesThePrincipal()
    {
        var first = await _client.NewUserAsync();
        _gate.Close();
        var secondLogin = Task.Run(() => _client.LoginAsync(first.Email));
        await _gate.WriterHeld.WaitAsync(TimeSpan.FromSeconds(30));

        // The second session is committed (its write is held): logout-all revokes it too.
        Assert.Equal(HttpStatusCode.NoContent, (await _client.SendAsync(HttpMethod.Post, "/auth/logout-all", first.Token)).StatusCode);
        _gate.Open();
        var second = await secondLogin.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.False(await _redis.Db.KeyExistsAsync(SessionRedisContract.SessionKey(second.Hash)));
        Assert.Equal(HttpStatusCode.Unauthorized, (await _client.SendAsync(HttpMethod.Get, "/auth/me", second.Token)).StatusCode);
    }

    [Fact]
    public async Task IntrospectionThatReadTheOldRole_WritesAfterTheMemberWasRemoved_RedisRefusesIt_AndAFreshReadIsStored()
    {
        var owner = await _client.NewUserAsync("owner");
        var member = await _client.NewUserAsync("member");
        var org = await (await _client.SendAsync(HttpMethod.Post, "/orgs", owner.Token, new { name = "Acme" })).ReadJsonAsync();
        Guid orgId = org.GetProperty("id").GetGuid();
        await _client.AddMemberAsync(owner, orgId, member, "admin");

        _gate.Close();
        var stale = StartWriter("introspection", member, Guid.Empty);
        await _gate.WriterHeld.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.NoContent, (await _client.SendAsync(HttpMethod.Delete, $"/orgs/{orgId}/members/{member.UserId}", owner.Token)).StatusCode);
        _gate.Open();
        await stale.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.False(await _redis.Db.KeyExistsAsync(SessionRedisContract.SessionKey(member.Hash)), "a principal with the removed admin role came back");
        await StartWriter("introspection", member, Guid.Empty);
        string? fresh = await _redis.Db.StringGetAsync(SessionRedisContract.SessionKey(member.Hash));
        Assert.NotNull(fresh);
        Assert.DoesNotContain(orgId.ToString(), fresh);
    }

    [Fact]
    public async Task LoginThatWaitedForAMembershipRemoval_StoresThePrincipalAfterIt_NotTheRoleItHadBefore()
    {
        // The login's one statement took its snapshot, then waited for the user's row (locked by the removal's trigger):
        // it inserted the session after the removal committed but read the membership from before it, and stored that
        // principal in Redis with no fence to refuse it (the removal fenced only the sessions that existed).
        var owner = await _client.NewUserAsync("owner");
        var member = await _client.NewUserAsync("member");
        var org = await (await _client.SendAsync(HttpMethod.Post, "/orgs", owner.Token, new { name = "Acme" })).ReadJsonAsync();
        Guid orgId = org.GetProperty("id").GetGuid();
        await _client.AddMemberAsync(owner, orgId, member, "admin");

        await using var db = Npgsql.NpgsqlDataSource.Create(_app.ConnectionString);
        await using var removal = await db.OpenConnectionAsync();
        await using var tx = await removal.BeginTransactionAsync();
        await using (var delete = new Npgsql.NpgsqlCommand("DELETE FROM org_members WHERE org_id = @o AND user_id = @u", removal, tx))
        {
            delete.Parameters.AddWithValue("o", orgId);
            delete.Parameters.AddWithValue("u", member.UserId);
            Assert.Equal(1, await delete.ExecuteNonQueryAsync());
        }
        var login = Task.Run(() => _client.LoginAsync(member.Email));
        await Poll.UntilAsync(async () =>
        {
            await using var waiting = db.CreateCommand("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()");
            return (long)(await waiting.ExecuteScalarAsync())! > 0;
        }, "the login waits for the member's row");
        await tx.CommitAsync();
        var second = await login.WaitAsync(TimeSpan.FromSeconds(30));

        string? stored = await _redis.Db.StringGetAsync(SessionRedisContract.SessionKey(second.Hash));
        Assert.NotNull(stored);
        Assert.DoesNotContain(orgId.ToString(), stored);
        var me = await (await _client.SendAsync(HttpMethod.Get, "/auth/me", second.Token)).ReadJsonAsync();
        Assert.DoesNotContain(orgId.ToString(), me.ToString());
    }

    private Task StartWriter(string writer, Login login, Guid sessionId) => writer switch
    {
        "introspection" => Task.Run(async () => Assert.Equal(HttpStatusCode.OK,
            (await _client.SendAsync(Internal("/internal/sessions/introspect", new { tokenHash = login.Hash }))).StatusCode)),
        "touch" => Task.Run(async () => Assert.Equal(HttpStatusCode.NoContent,
            (await _client.SendAsync(Internal("/internal/sessions/touch", new { tokenHashes = new[] { login.Hash } }))).StatusCode)),
        "last-seen flush" => Task.Run(async () =>
        {
            _app.Service<LastSeenBatcher>().Record(sessionId, _app.Time.GetUtcNow().UtcDateTime);
            await _app.Service<LastSeenFlusher>().FlushAsync();
        }),
        _ => throw new ArgumentOutOfRangeException(nameof(writer)),
    };

    private static HttpRequestMessage Internal(string path, object body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        request.Headers.Add(IdentityHeaders.InternalSecret, BackendApp.InternalSecret);
        return request;
    }
}
