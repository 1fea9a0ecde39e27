using System.Net;
using Backend.Invalidation;
using Backend.Tests.Support;
using Gateway.Contracts;
using TestInfrastructure;

namespace Backend.Tests.Sessions;

/// <summary>
/// Redis is best effort for reads and write-through, but not for revocation: with Redis down the backend starts and
/// serves, and a revocation answers 503 <c>revocation-pending</c> (never a 2xx) until Redis acknowledged it. The outbox
/// delivers it once Redis is back, without another request.
/// </summary>
public sealed class RedisOutageTests(PostgresFixture postgres) : IAsyncLifetime
{
    private RedisServer _redis = null!;

    public async ValueTask InitializeAsync() => _redis = await RedisServer.StartAsync();
    public async ValueTask DisposeAsync() => await _redis.DisposeAsync();

    [Fact]
    public async Task RedisDown_LoginAndMeSucceed_RevocationsAre503UntilRedisIsBack_ThenDelivered()
    {
        await _redis.StopAsync();
        await using var app = new BackendApp(await postgres.CreateDatabaseAsync("b"), _redis.ConnectionString, new Dictionary<string, string?>
        {
            ["Redis:OperationTimeout"] = "00:00:00.200",
            ["Invalidation:ConfirmTimeout"] = "00:00:00.500",
        });
        using var client = app.CreateClient();

        var login = await client.NewUserAsync();
        var other = await client.LoginAsync(login.Email);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(HttpMethod.Get, "/auth/me", login.Token)).StatusCode);

        var password = await client.SendAsync(HttpMethod.Put, "/users/password", login.Token,
            new { currentPassword = Api.Password, newPassword = "a different passphrase" });
        await password.AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "revocation-pending");
        Assert.Equal("1", password.Headers.RetryAfter?.ToString());
        var logout = await client.SendAsync(HttpMethod.Post, "/auth/logout", login.Token);
        await logout.AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "revocation-pending");

        // Committed all the same: the backend itself refuses both sessions.
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(HttpMethod.Get, "/auth/me", login.Token)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(HttpMethod.Get, "/auth/me", other.Token)).StatusCode);
        Assert.Equal(2, await app.Service<InvalidationOutbox>().CountAsync());

        await _redis.StartAsync();
        await using var listener = await InvalidationListener.StartAsync(_redis.ConnectionString);
        await Api.EventuallyAsync(async () => await app.Service<InvalidationOutbox>().CountAsync() == 0, "the outbox delivered once Redis was back", timeoutMs: 30_000);
        foreach (var l in new[] { login, other })
            Assert.Equal(SessionRedisContract.Revoked, (string?)await listener.Db.StringGetAsync(SessionRedisContract.FenceKey(l.Hash)));
    }
}
