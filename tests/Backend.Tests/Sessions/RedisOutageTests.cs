using System.Net;
using Backend.Tests.Support;
using TestInfrastructure;

namespace Backend.Tests.Sessions;

/// <summary>Redis is best effort for the backend: with it down, the backend starts and every flow still succeeds.</summary>
public sealed class RedisOutageTests(PostgresFixture postgres) : IAsyncLifetime
{
    private RedisServer _redis = null!;

    public async ValueTask InitializeAsync() => _redis = await RedisServer.StartAsync();
    public async ValueTask DisposeAsync() => await _redis.DisposeAsync();

    [Fact]
    public async Task RedisDown_StartLoginMeLogoutAndPasswordChangeStillSucceed()
    {
        await _redis.StopAsync();
        await using var app = new BackendApp(await postgres.CreateAsync(), _redis.ConnectionString,
            new Dictionary<string, string?> { ["Redis:OperationTimeout"] = "00:00:00.200" });
        using var client = app.CreateClient();

        var login = await client.NewUserAsync();
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(HttpMethod.Get, "/auth/me", login.Token)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.SendAsync(HttpMethod.Put, "/users/password", login.Token,
            new { currentPassword = Api.Password, newPassword = "a different passphrase" })).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.SendAsync(HttpMethod.Post, "/auth/logout", login.Token)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(HttpMethod.Get, "/auth/me", login.Token)).StatusCode);
    }
}
