using System.Net;
using Backend.Tests.Support;
using TestInfrastructure;

namespace Backend.Tests.Users;

public sealed class ProfileAndPasswordTests(PostgresFixture postgres, RedisFixture redis) : BackendTest(postgres, redis)
{
    [Fact]
    public async Task UpdateProfile_ValidInput_UpdatesAndPublishesUserData()
    {
        var login = await Client.NewUserAsync();
        await using var listener = await InvalidationListener.StartAsync(Redis.ConnectionString);
        var response = await Client.SendAsync(HttpMethod.Put, "/users/profile", login.Token,
            new { name = "New Name", displayName = "Nn", locale = "fr-FR", timezone = "Europe/Paris" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var user = await response.ReadJsonAsync();
        Assert.Equal("New Name", user.GetProperty("name").GetString());
        Assert.Equal("Europe/Paris", user.GetProperty("timezone").GetString());
        await listener.WaitForAsync("user-data", "userId", login.UserId.ToString(), "profile-update");
    }

    [Fact]
    public async Task UpdateProfile_InvalidInput_Returns400ListingEveryProblem()
    {
        var login = await Client.NewUserAsync();
        var response = await Client.SendAsync(HttpMethod.Put, "/users/profile", login.Token, new { name = "", timezone = "Mars/Olympus" });
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "validation");
        var errors = (await response.ReadJsonAsync()).GetProperty("errors");
        Assert.True(errors.TryGetProperty("name", out _));
        Assert.True(errors.TryGetProperty("timezone", out _));
    }

    [Theory]
    [InlineData("Europe//Paris")]
    [InlineData("posix/Europe/Paris")]
    [InlineData("right/UTC")]
    [InlineData("localtime")]
    [InlineData("posixrules")]
    [InlineData("/Europe/Paris")]
    [InlineData("Europe/Paris/")]
    [InlineData("Europe/../Europe/Paris")]
    public async Task UpdateProfile_AZoneDatabaseFileThatIsNoZoneId_Is400(string timezone)
    {
        // The zone lookup is a file lookup under /usr/share/zoneinfo: these are files (or paths to them), not ids a
        // client library parses, and they were stored as the user's zone.
        var login = await Client.NewUserAsync();
        var response = await Client.SendAsync(HttpMethod.Put, "/users/profile", login.Token, new { name = "N", timezone });
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.True((await response.ReadJsonAsync()).GetProperty("errors").TryGetProperty("timezone", out _));
    }

    [Theory]
    [InlineData("UTC")]
    [InlineData("Etc/GMT+5")]
    [InlineData("America/Argentina/Buenos_Aires")]
    [InlineData("America/Port-au-Prince")]
    public async Task UpdateProfile_ARealZoneId_IsStoredAsGiven(string timezone)
    {
        var login = await Client.NewUserAsync();
        var response = await Client.SendAsync(HttpMethod.Put, "/users/profile", login.Token, new { name = "N", timezone });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(timezone, (await response.ReadJsonAsync()).GetProperty("timezone").GetString());
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    public async Task UpdateProfile_AnEmptyTimezone_Is400_AndNullClearsIt(string timezone)
    {
        var login = await Client.NewUserAsync();
        Assert.Equal(HttpStatusCode.OK, (await Client.SendAsync(HttpMethod.Put, "/users/profile", login.Token, new { name = "N", timezone = "Europe/Paris" })).StatusCode);

        var empty = await Client.SendAsync(HttpMethod.Put, "/users/profile", login.Token, new { name = "N", timezone });
        await empty.AssertProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.True((await empty.ReadJsonAsync()).GetProperty("errors").TryGetProperty("timezone", out _));

        var cleared = await Client.SendAsync(HttpMethod.Put, "/users/profile", login.Token, new { name = "N", timezone = (string?)null });
        Assert.Equal(HttpStatusCode.OK, cleared.StatusCode);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, (await cleared.ReadJsonAsync()).GetProperty("timezone").ValueKind);
    }

    [Fact]
    public async Task UpdateProfile_Anonymous_Returns401()
    {
        await (await Client.SendAsync(HttpMethod.Put, "/users/profile", null, new { name = "x" })).AssertProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task ChangePassword_RevokesOtherSessionsKeepsCurrentAndPublishes()
    {
        var current = await Client.NewUserAsync();
        var other = await Client.LoginAsync(current.Email);
        await using var listener = await InvalidationListener.StartAsync(Redis.ConnectionString);

        var response = await Client.SendAsync(HttpMethod.Put, "/users/password", current.Token,
            new { currentPassword = Api.Password, newPassword = "an even better passphrase" });
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);

        await listener.WaitForAsync("user", "userId", current.UserId.ToString(), "password-change");
        Assert.False(await listener.Db.KeyExistsAsync($"gw:v1:session:{{{other.Hash}}}"));
        Assert.Equal(HttpStatusCode.Unauthorized, (await Client.SendAsync(HttpMethod.Get, "/auth/me", other.Token)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Client.SendAsync(HttpMethod.Get, "/auth/me", current.Token)).StatusCode);
        await Client.LoginAsync(current.Email, "an even better passphrase");
        await (await Client.SendAsync(HttpMethod.Post, "/auth/login", null, new { email = current.Email, password = Api.Password }))
            .AssertProblemAsync(HttpStatusCode.Unauthorized, "invalid-credentials");
    }

    [Fact]
    public async Task ChangePassword_WrongCurrentPassword_Returns403AndKeepsSessions_AndIsAudited()
    {
        var login = await Client.NewUserAsync();
        var response = await Client.SendAsync(HttpMethod.Put, "/users/password", login.Token,
            new { currentPassword = "not the password", newPassword = "an even better passphrase" });
        await response.AssertProblemAsync(HttpStatusCode.Forbidden, "invalid-credentials");
        Assert.Equal(HttpStatusCode.OK, (await Client.SendAsync(HttpMethod.Get, "/auth/me", login.Token)).StatusCode);

        // A session guessing its user's password is the sign of a stolen one: recorded like a failed login, with the session.
        await using var cmd = App.Service<Npgsql.NpgsqlDataSource>().CreateCommand(
            "SELECT details->>'sessionId' FROM audit_events WHERE event_type = 'password.change-failure' AND user_id = @u");
        cmd.Parameters.AddWithValue("u", login.UserId);
        var me = await (await Client.SendAsync(HttpMethod.Get, "/auth/me", login.Token)).ReadJsonAsync();
        Assert.Equal(me.GetProperty("sessionId").GetGuid().ToString(), await cmd.ExecuteScalarAsync(TestContext.Current.CancellationToken) as string);
    }

    [Theory]
    [InlineData("europe/paris")]
    [InlineData("EUROPE/PARIS")]
    [InlineData("utc")]
    public async Task UpdateProfile_ATimezoneInAnotherLetterCase_Is400_EvenOnceTheZoneIsLoaded(string timezone)
    {
        // .NET's zone cache ignores letter case: the wrong spelling was refused until a request had loaded the zone,
        // then stored as typed. Loaded first here, so the cache would accept it.
        var login = await Client.NewUserAsync();
        Assert.Equal(HttpStatusCode.OK, (await Client.SendAsync(HttpMethod.Put, "/users/profile", login.Token, new { name = "N", timezone = "Europe/Paris" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Client.SendAsync(HttpMethod.Put, "/users/profile", login.Token, new { name = "N", timezone = "UTC" })).StatusCode);

        var wrongCase = await Client.SendAsync(HttpMethod.Put, "/users/profile", login.Token, new { name = "N", timezone });
        await wrongCase.AssertProblemAsync(HttpStatusCode.BadRequest, "validation");
    }

    [Fact]
    public async Task ChangePassword_RepeatedWrongCurrentPassword_IsThrottled()
    {
        var login = await Client.NewUserAsync();
        for (int i = 0; i < 5; i++)
            await (await Client.SendAsync(HttpMethod.Put, "/users/password", login.Token,
                new { currentPassword = "guess number " + i, newPassword = "an even better passphrase" })).AssertProblemAsync(HttpStatusCode.Forbidden, "invalid-credentials");
        var blocked = await Client.SendAsync(HttpMethod.Put, "/users/password", login.Token,
            new { currentPassword = Api.Password, newPassword = "an even better passphrase" });
        await blocked.AssertProblemAsync(HttpStatusCode.TooManyRequests, "too-many-attempts");
        Assert.NotNull(blocked.Headers.RetryAfter);
    }

    /// <summary>
    /// The password change's throttle counts the user's own wrong current passwords. Strangers' failed logins must not
    /// spend it: a login "email" spelled like its key ("user:" and the user id, which every co-member sees) did, so
    /// five of them kept the user from changing the password for the whole window.
    /// </summary>
    [Fact]
    public async Task ChangePassword_StrangersFailedLoginsNamingTheUserId_DoNotThrottleIt()
    {
        var victim = await Client.NewUserAsync();
        for (int i = 0; i < 5; i++)
            await (await Client.SendAsync(HttpMethod.Post, "/auth/login", null, new { email = "user:" + victim.UserId.ToString("N"), password = "guess number " + i }))
                .AssertProblemAsync(HttpStatusCode.Unauthorized, "invalid-credentials");
        var response = await Client.SendAsync(HttpMethod.Put, "/users/password", victim.Token,
            new { currentPassword = Api.Password, newPassword = "an even better passphrase" });
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    [Fact]
    public async Task ChangePassword_InvalidInput_Returns400ListingEveryProblem()
    {
        var login = await Client.NewUserAsync();
        var response = await Client.SendAsync(HttpMethod.Put, "/users/password", login.Token, new { currentPassword = "", newPassword = "short" });
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "validation");
        var errors = (await response.ReadJsonAsync()).GetProperty("errors");
        Assert.True(errors.TryGetProperty("currentPassword", out _));
        Assert.True(errors.TryGetProperty("newPassword", out _));
    }
}
