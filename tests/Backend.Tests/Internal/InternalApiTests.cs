using System.Net;
using System.Net.Http.Json;
using Backend.Tests.Support;
using TestInfrastructure;

namespace Backend.Tests.Internal;

public sealed class InternalApiTests(PostgresFixture postgres, RedisFixture redis) : BackendTest(postgres, redis)
{
    private Task<HttpResponseMessage> PostInternal(string path, object body) => PostInternal(path, body, BackendApp.InternalSecret);

    private Task<HttpResponseMessage> PostInternal(string path, object body, string? secret)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        if (secret is not null) request.Headers.Add("X-Gateway-Secret", secret);
        return Client.SendAsync(request);
    }

    [Fact]
    public async Task Introspect_ValidSession_ReturnsPrincipalPerContract()
    {
        var login = await Client.NewUserAsync();
        var response = await PostInternal("/internal/sessions/introspect", new { tokenHash = login.Hash });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var p = await response.ReadJsonAsync();
        Assert.Equal(login.UserId, p.GetProperty("userId").GetGuid());
        Assert.Equal(login.Email, p.GetProperty("email").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Array, p.GetProperty("orgs").ValueKind);
        Assert.True(p.TryGetProperty("sessionId", out _));
        Assert.True(p.GetProperty("idleExpiresAt").GetDateTime() <= p.GetProperty("expiresAt").GetDateTime());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("wrong-secret-wrong-secret-wrong-secret-0123")]
    [InlineData("test-shared-secret-0123456789-abcdefghijklmno")]
    public async Task Introspect_MissingOrWrongSecret_Returns401NotCacheable(string? secret)
    {
        var login = await Client.NewUserAsync();
        var response = await PostInternal("/internal/sessions/introspect", new { tokenHash = login.Hash }, secret);
        await response.AssertProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
        Assert.True(response.Headers.CacheControl?.NoStore);
    }

    [Fact]
    public async Task InternalPaths_WithoutSecret_Return401EvenForMalformedBodiesOrUnknownPaths()
    {
        var malformed = new HttpRequestMessage(HttpMethod.Post, "/internal/sessions/introspect") { Content = new StringContent("{not json", System.Text.Encoding.UTF8, "application/json") };
        await (await Client.SendAsync(malformed)).AssertProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
        await (await PostInternal("/internal/does-not-exist", new { }, secret: null)).AssertProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task Introspect_UnknownOrRevokedSession_Returns404()
    {
        var login = await Client.NewUserAsync();
        await Client.SendAsync(HttpMethod.Post, "/auth/logout", login.Token);
        await (await PostInternal("/internal/sessions/introspect", new { tokenHash = login.Hash })).AssertProblemAsync(HttpStatusCode.NotFound, "not-found");
        await (await PostInternal("/internal/sessions/introspect", new { tokenHash = new string('a', 64) })).AssertProblemAsync(HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task Introspect_MalformedHash_Returns400()
    {
        await (await PostInternal("/internal/sessions/introspect", new { tokenHash = "xyz" })).AssertProblemAsync(HttpStatusCode.BadRequest, "validation");
    }

    [Fact]
    public async Task Introspect_CountsAsActivityAndRefreshesRedis()
    {
        var login = await Client.NewUserAsync();
        App.Time.Advance(TimeSpan.FromMinutes(20));
        var p = await (await PostInternal("/internal/sessions/introspect", new { tokenHash = login.Hash })).ReadJsonAsync();
        Assert.True(p.GetProperty("idleExpiresAt").GetDateTime() >= App.Time.GetUtcNow().UtcDateTime.AddMinutes(29));
        App.Time.Advance(TimeSpan.FromMinutes(20));
        Assert.Equal(HttpStatusCode.OK, (await PostInternal("/internal/sessions/introspect", new { tokenHash = login.Hash })).StatusCode);
        await using var listener = await InvalidationListener.StartAsync(Redis.ConnectionString);
        string? cached = await listener.Db.StringGetAsync($"gw:v1:session:{{{login.Hash}}}");
        Assert.NotNull(cached);
    }

    [Fact]
    public async Task Introspect_WithTouchFalse_LeavesTheIdleExpiry_SoTheSessionStillIdlesOut()
    {
        // The gateway re-checks the sessions of open streams; those checks are not the user's activity. Counted, an
        // event stream left open in an unattended tab kept its session alive until its absolute expiry.
        var login = await Client.NewUserAsync();
        var idleAtLogin = (await (await PostInternal("/internal/sessions/introspect", new { tokenHash = login.Hash, touch = false })).ReadJsonAsync())
            .GetProperty("idleExpiresAt").GetDateTime();
        App.Time.Advance(TimeSpan.FromMinutes(20));
        var p = await (await PostInternal("/internal/sessions/introspect", new { tokenHash = login.Hash, touch = false })).ReadJsonAsync();
        Assert.Equal(idleAtLogin, p.GetProperty("idleExpiresAt").GetDateTime());
        App.Time.Advance(TimeSpan.FromMinutes(11));
        await (await PostInternal("/internal/sessions/introspect", new { tokenHash = login.Hash, touch = false })).AssertProblemAsync(HttpStatusCode.NotFound, "not-found");
        await (await PostInternal("/internal/sessions/introspect", new { tokenHash = login.Hash })).AssertProblemAsync(HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task Touch_KeepsSessionsAliveAndRejectsBadInput()
    {
        var login = await Client.NewUserAsync();
        for (int i = 0; i < 3; i++)
        {
            App.Time.Advance(TimeSpan.FromMinutes(20));
            Assert.Equal(HttpStatusCode.NoContent, (await PostInternal("/internal/sessions/touch", new { tokenHashes = new[] { login.Hash } })).StatusCode);
        }
        Assert.Equal(HttpStatusCode.OK, (await Client.SendAsync(HttpMethod.Get, "/auth/me", login.Token)).StatusCode);
        await (await PostInternal("/internal/sessions/touch", new { tokenHashes = new[] { "nope" } })).AssertProblemAsync(HttpStatusCode.BadRequest, "validation");
        await (await PostInternal("/internal/sessions/touch", new { tokenHashes = new[] { login.Hash } }, "bad")).AssertProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public void SecretComparison_IsConstantTimeOverFixedLengthDigests()
    {
        Assert.True(Backend.Internal.InternalApi.SecretEquals("same-secret", "same-secret"));
        Assert.False(Backend.Internal.InternalApi.SecretEquals("same-secret", "same-secreT"));
        Assert.False(Backend.Internal.InternalApi.SecretEquals("same-secret", ""));
    }
}

public sealed class StartupValidationTests(PostgresFixture postgres, RedisFixture redis)
{
    [Fact]
    public async Task ShortInternalSecret_FailsAtStartNamingTheSetting()
    {
        await using var app = new BackendApp(await postgres.CreateDatabaseAsync("b"), redis.ConnectionString,
            new Dictionary<string, string?> { ["Trust:InternalSecret"] = "too-short" });
        var ex = Assert.ThrowsAny<Exception>(() => app.CreateClient());
        Assert.Contains("Trust:InternalSecret is shorter than 32 bytes", ex.ToString());
    }

    [Fact]
    public async Task IntrospectionPrincipal_HasExactlyTheContractFields()
    {
        await using var app = new BackendApp(await postgres.CreateDatabaseAsync("b"), redis.ConnectionString);
        using var client = app.CreateClient();
        var login = await client.NewUserAsync();
        var request = new HttpRequestMessage(HttpMethod.Post, "/internal/sessions/introspect") { Content = JsonContent.Create(new { tokenHash = login.Hash }) };
        request.Headers.Add("X-Gateway-Secret", BackendApp.InternalSecret);
        var json = await (await client.SendAsync(request)).ReadJsonAsync();
        Assert.Equal(["email", "expiresAt", "idleExpiresAt", "orgs", "sessionId", "userId", "version"], json.EnumerateObject().Select(p => p.Name).Order());
    }
}
