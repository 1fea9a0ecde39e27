using System.Net;
using Backend.Invalidation;
using Backend.Tests.Support;
using TestInfrastructure;

namespace Backend.Tests.Sessions;

public sealed class LogoutAndSessionTests(PostgresFixture postgres, RedisFixture redis) : BackendTest(postgres, redis)
{
    private static string Key(Login l) => $"gw:v1:session:{{{l.Hash}}}";

    [Fact]
    public async Task Me_WithBearerToken_ReturnsProfileAndSession()
    {
        var login = await Client.NewUserAsync();
        var response = await Client.SendAsync(HttpMethod.Get, "/auth/me", login.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var me = await response.ReadJsonAsync();
        Assert.Equal(login.UserId, me.GetProperty("id").GetGuid());
        Assert.Equal(0, me.GetProperty("organizations").GetArrayLength());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("not-a-token")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public async Task Me_WithoutValidToken_Returns401Problem(string? token)
    {
        var response = await Client.SendAsync(HttpMethod.Get, "/auth/me", token);
        await response.AssertProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task Logout_RevokesTokenDeletesRedisKeyAndPublishesSessionInvalidation()
    {
        var login = await Client.NewUserAsync();
        await using var listener = await InvalidationListener.StartAsync(Redis.ConnectionString);
        Assert.True(await listener.Db.KeyExistsAsync(Key(login)));

        Assert.Equal(HttpStatusCode.NoContent, (await Client.SendAsync(HttpMethod.Post, "/auth/logout", login.Token)).StatusCode);

        var message = await listener.WaitForAsync("session", "sessionHash", login.Hash, "logout");
        Assert.Equal(1, message.GetProperty("v").GetInt32());
        Assert.Equal(login.UserId.ToString(), message.GetProperty("userId").GetString());
        Assert.True(message.GetProperty("at").GetInt64() > 0);
        Assert.False(await listener.Db.KeyExistsAsync(Key(login)));
        Assert.Equal(HttpStatusCode.Unauthorized, (await Client.SendAsync(HttpMethod.Get, "/auth/me", login.Token)).StatusCode);
        // The request delivered its own entry and deleted it (the background relay's timer runs on the fake clock).
        Assert.Equal(0, await App.Service<InvalidationOutbox>().CountAsync());
    }

    [Fact]
    public async Task LogoutAll_RevokesEverySessionAndPublishesUserInvalidation()
    {
        var first = await Client.NewUserAsync();
        var second = await Client.LoginAsync(first.Email);
        await using var listener = await InvalidationListener.StartAsync(Redis.ConnectionString);

        Assert.Equal(HttpStatusCode.NoContent, (await Client.SendAsync(HttpMethod.Post, "/auth/logout-all", first.Token)).StatusCode);

        await listener.WaitForAsync("user", "userId", first.UserId.ToString(), "logout-all");
        Assert.False(await listener.Db.KeyExistsAsync(Key(first)));
        Assert.False(await listener.Db.KeyExistsAsync(Key(second)));
        Assert.Equal(HttpStatusCode.Unauthorized, (await Client.SendAsync(HttpMethod.Get, "/auth/me", first.Token)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Client.SendAsync(HttpMethod.Get, "/auth/me", second.Token)).StatusCode);
    }

    [Fact]
    public async Task Logout_WithoutToken_Returns401()
    {
        await (await Client.SendAsync(HttpMethod.Post, "/auth/logout", null)).AssertProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
        await (await Client.SendAsync(HttpMethod.Post, "/auth/logout-all", null)).AssertProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task ListSessions_ShowsEachSessionWithCurrentFlagAndPaginates()
    {
        var first = await Client.NewUserAsync();
        var second = await Client.LoginAsync(first.Email);
        await Client.LoginAsync(first.Email);

        var page1 = await (await Client.SendAsync(HttpMethod.Get, "/users/me/sessions?limit=2", second.Token)).ReadJsonAsync();
        Assert.Equal(2, page1.GetProperty("items").GetArrayLength());
        string cursor = page1.GetProperty("nextCursor").GetString()!;
        var page2 = await (await Client.SendAsync(HttpMethod.Get, $"/users/me/sessions?limit=2&cursor={cursor}", second.Token)).ReadJsonAsync();
        Assert.Equal(1, page2.GetProperty("items").GetArrayLength());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, page2.GetProperty("nextCursor").ValueKind);

        var all = page1.GetProperty("items").EnumerateArray().Concat(page2.GetProperty("items").EnumerateArray()).ToList();
        Assert.Single(all, s => s.GetProperty("current").GetBoolean());
        Assert.All(all, s => Assert.True(s.TryGetProperty("lastSeenAt", out _) && s.TryGetProperty("clientIp", out _) && s.TryGetProperty("userAgent", out _)));
    }

    [Fact]
    public async Task DeleteSession_RevokesThatSessionOnly()
    {
        var first = await Client.NewUserAsync();
        var second = await Client.LoginAsync(first.Email);
        await using var listener = await InvalidationListener.StartAsync(Redis.ConnectionString);
        var other = await Client.OtherSessionIdAsync(first.Token);

        Assert.Equal(HttpStatusCode.NoContent, (await Client.SendAsync(HttpMethod.Delete, $"/users/me/sessions/{other}", first.Token)).StatusCode);

        await listener.WaitForAsync("session", "sessionHash", second.Hash, "session-revoked");
        Assert.Equal(HttpStatusCode.Unauthorized, (await Client.SendAsync(HttpMethod.Get, "/auth/me", second.Token)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Client.SendAsync(HttpMethod.Get, "/auth/me", first.Token)).StatusCode);
    }

    [Fact]
    public async Task DeleteSession_OfAnotherUserOrUnknown_Returns404()
    {
        var alice = await Client.NewUserAsync("alice");
        var bob = await Client.NewUserAsync("bob");
        var bobs = await (await Client.SendAsync(HttpMethod.Get, "/users/me/sessions", bob.Token)).ReadJsonAsync();
        var bobSession = bobs.GetProperty("items")[0].GetProperty("id").GetGuid();
        await (await Client.SendAsync(HttpMethod.Delete, $"/users/me/sessions/{bobSession}", alice.Token)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found");
        await (await Client.SendAsync(HttpMethod.Delete, $"/users/me/sessions/{Guid.NewGuid()}", alice.Token)).AssertProblemAsync(HttpStatusCode.NotFound, "not-found");
        Assert.Equal(HttpStatusCode.OK, (await Client.SendAsync(HttpMethod.Get, "/auth/me", bob.Token)).StatusCode);
    }

    [Fact]
    public async Task Session_IdleLongerThanTimeout_IsRejected()
    {
        var login = await Client.NewUserAsync();
        App.Time.Advance(TimeSpan.FromMinutes(31));
        Assert.Equal(HttpStatusCode.Unauthorized, (await Client.SendAsync(HttpMethod.Get, "/auth/me", login.Token)).StatusCode);
    }

    [Fact]
    public async Task Session_ActivityFlushedByBatcher_SlidesIdleExpiryButNeverPastAbsoluteExpiry()
    {
        var login = await Client.NewUserAsync();
        var flusher = App.Service<Backend.Sessions.LastSeenFlusher>();
        // Stay active every 20 minutes for 7 days: idle never hits, the absolute lifetime does.
        for (int i = 0; i < 7 * 24 * 3 - 1; i++)
        {
            App.Time.Advance(TimeSpan.FromMinutes(20));
            Assert.Equal(HttpStatusCode.OK, (await Client.SendAsync(HttpMethod.Get, "/auth/me", login.Token)).StatusCode);
            await flusher.FlushAsync();
        }
        App.Time.Advance(TimeSpan.FromMinutes(21));
        Assert.Equal(HttpStatusCode.Unauthorized, (await Client.SendAsync(HttpMethod.Get, "/auth/me", login.Token)).StatusCode);
    }
}
