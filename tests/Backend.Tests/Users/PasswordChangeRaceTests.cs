using Backend.Sessions;
using Backend.Tests.Support;
using Backend.Users;
using Gateway.Trust;
using Npgsql;
using TestInfrastructure;

namespace Backend.Tests.Users;

/// <summary>
/// A login verifies the password it read (~40 ms of Argon2id) before it creates the session. A password change that
/// commits in that gap revokes every other session of the user; the login's session must not be created after it, and
/// a login's rehash of the old password must not undo the change. Driven at the stores, with the password change's row
/// lock held by hand, so the interleaving is the one that broke, every time.
/// </summary>
public sealed class PasswordChangeRaceTests(PostgresFixture postgres, RedisFixture redis) : BackendTest(postgres, redis)
{
    [Fact]
    public async Task ALoginWhosePasswordChangesWhileItCreatesTheSession_GetsNoSession()
    {
        var user = await Client.NewUserAsync();
        var users = App.Service<UserStore>();
        string verified = (await users.GetPasswordHashAsync(user.UserId))!;
        var db = App.Service<NpgsqlDataSource>();

        // The password change's transaction: the row is updated (and locked) first, its revocation would follow.
        await using var change = await db.OpenConnectionAsync(TestContext.Current.CancellationToken);
        await using var tx = await change.BeginTransactionAsync(TestContext.Current.CancellationToken);
        Assert.True(await users.ReplacePasswordHashAsync(user.UserId, verified, "$argon2id$changed", DateTime.UtcNow, change, tx));

        string token = SessionToken.Create();
        var login = App.Service<SessionStore>().CreateAsync(user.UserId, verified, SessionToken.Hash(token), "127.0.0.1", "test", DateTime.UtcNow);
        // The login's insert waits for the change's row lock (it reads the row FOR SHARE) instead of passing on the old hash.
        await Api.EventuallyAsync(async () => await WaitingOnALockAsync(db, "INSERT INTO sessions"), "the login's insert waits for the password change");
        Assert.False(login.IsCompleted);
        await tx.CommitAsync(TestContext.Current.CancellationToken);

        Assert.Null(await login);
        Assert.Null(await App.Service<SessionStore>().FindLiveAsync(SessionToken.Hash(token), DateTime.UtcNow));
    }

    [Fact]
    public async Task ALoginBeforeThePasswordChange_GetsASessionTheChangeRevokes()
    {
        var user = await Client.NewUserAsync();
        string verified = (await App.Service<UserStore>().GetPasswordHashAsync(user.UserId))!;
        string token = SessionToken.Create();
        Assert.NotNull(await App.Service<SessionStore>().CreateAsync(user.UserId, verified, SessionToken.Hash(token), null, null, DateTime.UtcNow));

        var response = await Client.SendAsync(HttpMethod.Put, "/users/password", user.Token,
            new { currentPassword = Api.Password, newPassword = "an even better passphrase" });
        Assert.Equal(System.Net.HttpStatusCode.NoContent, response.StatusCode);
        Assert.Null(await App.Service<SessionStore>().FindLiveAsync(SessionToken.Hash(token), DateTime.UtcNow));
    }

    [Fact]
    public async Task AHashReplacedMeanwhile_IsNotOverwritten()
    {
        // A login's rehash (or a second password change) computed from the old hash: it must not undo the change.
        var user = await Client.NewUserAsync();
        var users = App.Service<UserStore>();
        string old = (await users.GetPasswordHashAsync(user.UserId))!;
        Assert.True(await users.ReplacePasswordHashAsync(user.UserId, old, "$argon2id$changed", DateTime.UtcNow));
        Assert.False(await users.ReplacePasswordHashAsync(user.UserId, old, "$argon2id$rehash-of-the-old-password", DateTime.UtcNow));
        Assert.Equal("$argon2id$changed", await users.GetPasswordHashAsync(user.UserId));
    }

    private static async Task<bool> WaitingOnALockAsync(NpgsqlDataSource db, string statement)
    {
        await using var cmd = db.CreateCommand(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND position(@q in query) > 0 AND pid <> pg_backend_pid()");
        cmd.Parameters.AddWithValue("q", statement);
        return (long)(await cmd.ExecuteScalarAsync())! > 0;
    }
}
