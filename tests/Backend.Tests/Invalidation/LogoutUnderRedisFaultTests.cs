using System.Net;
using Backend.Invalidation;
using Backend.Tests.Support;
using Gateway.Contracts;
using TestInfrastructure;

namespace Backend.Tests.Invalidation;

/// <summary>
/// The fault of issue 14's repro: Redis stops taking writes while a logout is under way and the backend's connections
/// are killed mid-write. A 2xx must mean the fence is in Redis; otherwise the answer is 503 and the outbox finishes later.
/// </summary>
public sealed class LogoutUnderRedisFaultTests(PostgresFixture postgres) : IAsyncLifetime
{
    private RedisServer _redis = null!;

    public async ValueTask InitializeAsync() => _redis = await RedisServer.StartAsync();
    public async ValueTask DisposeAsync() => await _redis.DisposeAsync();

    private async Task<BackendApp> StartBackendAsync(string confirmTimeout) =>
        new(await postgres.CreateDatabaseAsync("b"), _redis.ConnectionString, new Dictionary<string, string?>
        {
            ["Redis:OperationTimeout"] = "00:00:00.300",
            ["Invalidation:ConfirmTimeout"] = confirmTimeout,
        });

    [Fact]
    public async Task ConnectionKilledDuringALongWritePause_LogoutAnswers503_AndTheFenceLandsAfterwards()
    {
        await using var app = await StartBackendAsync("00:00:01");
        using var client = app.CreateClient();
        var login = await client.NewUserAsync();
        await using var redis = await InvalidationListener.StartAsync(_redis.ConnectionString);
        Assert.True(await redis.Db.KeyExistsAsync(SessionRedisContract.SessionKey(login.Hash)));

        await _redis.CliAsync("CLIENT", "PAUSE", "4000", "WRITE");
        var logout = client.SendAsync(HttpMethod.Post, "/auth/logout", login.Token);
        // The revocation is committed and its delivery is waiting on Redis: now cut the backend's connections.
        await Api.EventuallyAsync(async () => await app.Service<InvalidationOutbox>().CountAsync() == 1, "the logout committed");
        await KillClientsAsync();

        var response = await logout;

        await response.AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "revocation-pending");
        await Api.EventuallyAsync(async () => await app.Service<InvalidationOutbox>().CountAsync() == 0,
            "the outbox delivered after the pause", timeoutMs: 30_000);
        Assert.False(await redis.Db.KeyExistsAsync(SessionRedisContract.SessionKey(login.Hash)));
        Assert.Equal(SessionRedisContract.Revoked, (string?)await redis.Db.StringGetAsync(SessionRedisContract.FenceKey(login.Hash)));
    }

    [Fact]
    public async Task ConnectionKilledDuringAShortWritePause_LogoutAnswers204_OnlyWithTheFenceAlreadyInRedis()
    {
        await using var app = await StartBackendAsync("00:00:10");
        using var client = app.CreateClient();
        var login = await client.NewUserAsync();
        await using var redis = await InvalidationListener.StartAsync(_redis.ConnectionString);

        await _redis.CliAsync("CLIENT", "PAUSE", "800", "WRITE");
        var logout = client.SendAsync(HttpMethod.Post, "/auth/logout", login.Token);
        await Api.EventuallyAsync(async () => await app.Service<InvalidationOutbox>().CountAsync() == 1, "the logout committed");
        await KillClientsAsync();

        var response = await logout;

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.False(await redis.Db.KeyExistsAsync(SessionRedisContract.SessionKey(login.Hash)));
        Assert.Equal(SessionRedisContract.Revoked, (string?)await redis.Db.StringGetAsync(SessionRedisContract.FenceKey(login.Hash)));
        Assert.Equal(0, await app.Service<InvalidationOutbox>().CountAsync());
    }

    /// <summary>Every client connection but redis-cli's own, as <c>CLIENT KILL ADDR</c> on the backend's sockets would.</summary>
    private async Task KillClientsAsync()
    {
        await _redis.CliAsync("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes");
        await _redis.CliAsync("CLIENT", "KILL", "TYPE", "pubsub", "SKIPME", "yes");
    }
}
