using Gateway.Contracts;
using System.Net;
using Backend.Tests.Support;
using TestInfrastructure;

namespace Backend.Tests.Sessions;

/// <summary>Session write-through and invalidation publishing on one standalone Redis.</summary>
public sealed class SessionCacheOnRedisTests(PostgresFixture postgres, RedisFixture redis) : SessionCacheTests(postgres)
{
    protected override string Redis => redis.ConnectionString;
}

/// <summary>
/// The same suite on a real 3-master Redis Cluster: session keys spread over the masters' slots (one hash tag per key,
/// so every command is single-slot) and the backend's publishes reach a subscriber connected through the cluster.
/// </summary>
public sealed class SessionCacheOnRedisClusterTests(PostgresFixture postgres, RedisClusterFixture cluster)
    : SessionCacheTests(postgres), IClassFixture<RedisClusterFixture>
{
    protected override string Redis => cluster.ConnectionString;
}

public abstract class SessionCacheTests(PostgresFixture postgres) : IAsyncLifetime
{
    private BackendApp _app = null!;
    private HttpClient _client = null!;

    protected abstract string Redis { get; }

    private static string Key(Login l) => $"gw:v1:session:{{{l.Hash}}}";

    public async ValueTask InitializeAsync()
    {
        _app = new BackendApp(await postgres.CreateDatabaseAsync("b"), Redis);
        _client = _app.CreateClient();
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task Login_WritesThePrincipalThroughWithTheCappedTtl_KeyedByTokenHash()
    {
        var login = await _client.NewUserAsync();
        await using var listener = await InvalidationListener.StartAsync(Redis);

        string? cached = await listener.Db.StringGetAsync(Key(login));
        Assert.NotNull(cached);
        Assert.Contains(login.UserId.ToString(), cached);
        Assert.DoesNotContain(login.Token, cached);
        // Capped by the contract, far below the 30-minute idle expiry: bounds how long any stale principal can be served.
        Assert.InRange((await listener.Db.KeyTimeToLiveAsync(Key(login)))!.Value, TimeSpan.FromMinutes(4), SessionRedisContract.MaxPrincipalTtl);
    }

    [Fact]
    public async Task Logout_DeletesTheKeyAndPublishesASessionInvalidation()
    {
        var login = await _client.NewUserAsync();
        await using var listener = await InvalidationListener.StartAsync(Redis);

        Assert.Equal(HttpStatusCode.NoContent, (await _client.SendAsync(HttpMethod.Post, "/auth/logout", login.Token)).StatusCode);

        await listener.WaitForAsync("session", "sessionHash", login.Hash, "logout");
        Assert.False(await listener.Db.KeyExistsAsync(Key(login)));
    }

    [Fact]
    public async Task LogoutAll_DeletesEveryKeyWhateverItsSlot_AndPublishesAUserInvalidation()
    {
        var first = await _client.NewUserAsync();
        var logins = new List<Login> { first };
        // Several sessions: on a cluster their keys land on different masters, which a multi-key DEL would refuse.
        for (int i = 0; i < 5; i++) logins.Add(await _client.LoginAsync(first.Email));
        await using var listener = await InvalidationListener.StartAsync(Redis);
        foreach (var l in logins) Assert.True(await listener.Db.KeyExistsAsync(Key(l)));

        Assert.Equal(HttpStatusCode.NoContent, (await _client.SendAsync(HttpMethod.Post, "/auth/logout-all", first.Token)).StatusCode);

        await listener.WaitForAsync("user", "userId", first.UserId.ToString(), "logout-all");
        foreach (var l in logins) Assert.False(await listener.Db.KeyExistsAsync(Key(l)));
    }

    [Fact]
    public async Task RevokingAnotherSession_DeletesItsKey_PublishesAndTheTokenIsRefused()
    {
        var first = await _client.NewUserAsync();
        var second = await _client.LoginAsync(first.Email);
        var other = await _client.OtherSessionIdAsync(first.Token);
        await using var listener = await InvalidationListener.StartAsync(Redis);

        Assert.Equal(HttpStatusCode.NoContent, (await _client.SendAsync(HttpMethod.Delete, $"/users/me/sessions/{other}", first.Token)).StatusCode);

        await listener.WaitForAsync("session", "sessionHash", second.Hash, "session-revoked");
        Assert.False(await listener.Db.KeyExistsAsync(Key(second)));
        Assert.True(await listener.Db.KeyExistsAsync(Key(first)));
        Assert.Equal(HttpStatusCode.Unauthorized, (await _client.SendAsync(HttpMethod.Get, "/auth/me", second.Token)).StatusCode);
    }

    [Fact]
    public async Task ProfileUpdate_PublishesAUserDataInvalidation()
    {
        var login = await _client.NewUserAsync();
        await using var listener = await InvalidationListener.StartAsync(Redis);

        var response = await _client.SendAsync(HttpMethod.Put, "/users/profile", login.Token, new { name = "Renamed" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await listener.WaitForAsync("user-data", "userId", login.UserId.ToString(), "profile-update");
    }
}
