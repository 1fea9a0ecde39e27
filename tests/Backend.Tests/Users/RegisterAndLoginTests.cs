using System.Net;
using System.Net.Http.Json;
using Backend.Tests.Support;
using TestInfrastructure;

namespace Backend.Tests.Users;

public sealed class RegisterAndLoginTests(PostgresFixture postgres, RedisFixture redis) : BackendTest(postgres, redis)
{
    [Fact]
    public async Task Register_ValidInput_Returns201WithUserAndNoPasswordHash()
    {
        var response = await Client.PostAsJsonAsync("/auth/register", new { email = "  Alice.Smith@Example.COM ", password = Api.Password, name = "Alice" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var json = await response.ReadJsonAsync();
        Assert.Equal("Alice.Smith@Example.COM", json.GetProperty("email").GetString());
        Assert.Equal("Alice", json.GetProperty("name").GetString());
        Assert.False(json.TryGetProperty("passwordHash", out _));
    }

    [Fact]
    public async Task Login_WithAUserAgentWhoseCutWouldSplitASurrogatePair_Succeeds()
    {
        // The session keeps the first 512 characters of the User-Agent; cut at 512, the emoji's high surrogate stayed
        // alone and Npgsql refused the row: a 500 at login for any client whose agent string said so.
        string email = Api.NewEmail();
        await Client.RegisterAsync(email);
        var request = new HttpRequestMessage(HttpMethod.Post, "/auth/login") { Content = JsonContent.Create(new { email, password = Api.Password }) };
        request.Headers.TryAddWithoutValidation("User-Agent", new string('a', 511) + "\U0001F600");
        using var response = await Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Register_DuplicateEmailDifferentCase_Returns409()
    {
        string email = Api.NewEmail();
        await Client.RegisterAsync(email);
        var response = await Client.PostAsJsonAsync("/auth/register", new { email = "  " + email.ToUpperInvariant(), password = Api.Password, name = "B" });
        await response.AssertProblemAsync(HttpStatusCode.Conflict, "duplicate-email");
    }

    [Theory]
    [InlineData("jose\u0301", "jos\u00E9")]   // "josé" with e + combining acute, then with a precomposed é
    [InlineData("\u0130pek", "I\u0307pek")]    // "İpek" precomposed, then I + combining dot above (two accounts until 2026-12-06)
    public async Task Register_TheSameAddressInAnotherUnicodeForm_Returns409_AndEitherFormSignsIn(string first, string second)
    {
        // They look the same, so they are one account.
        string tag = Guid.NewGuid().ToString("N");
        string registered = $"{first}-{tag}@example.com";
        string other = $"{second}-{tag}@example.com";
        var created = await Client.RegisterAsync(registered);

        var duplicate = await Client.PostAsJsonAsync("/auth/register", new { email = other, password = Api.Password, name = "B" });
        await duplicate.AssertProblemAsync(HttpStatusCode.Conflict, "duplicate-email");
        var login = await Client.PostAsJsonAsync("/auth/login", new { email = other, password = Api.Password });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        Assert.Equal(created.GetProperty("id").GetString(), (await login.ReadJsonAsync()).GetProperty("user").GetProperty("id").GetString());
    }

    [Theory]
    [InlineData("/auth/register")]
    [InlineData("/auth/login")]
    public async Task AnEmailWithALoneSurrogate_Is400OnTheEmail(string path)
    {
        // An escaped lone surrogate is ill-formed text: refused as the body is read, naming the field, never a 500.
        // (AccountEmail.TryNormalize refuses it too, for callers that build the text some other way.)
        string body = $$"""{"email":"a\ud800-{{Guid.NewGuid():N}}@example.com","password":"{{Api.Password}}","name":"A"}""";
        using var response = await Client.PostAsync(path, new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("\"$.email\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Register_EverythingInvalid_Returns400ListingEveryProblem()
    {
        var response = await Client.PostAsJsonAsync("/auth/register", new { email = "not-an-email", password = "short", name = " " });
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "validation");
        var errors = (await response.ReadJsonAsync()).GetProperty("errors");
        Assert.True(errors.TryGetProperty("email", out _));
        Assert.True(errors.TryGetProperty("password", out _));
        Assert.True(errors.TryGetProperty("name", out _));
    }

    [Fact]
    public async Task Register_PasswordLongerThan128_Returns400()
    {
        var response = await Client.PostAsJsonAsync("/auth/register", new { email = Api.NewEmail(), password = new string('x', 129), name = "N" });
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "validation");
        Assert.True((await response.ReadJsonAsync()).GetProperty("errors").TryGetProperty("password", out _));
    }

    [Fact]
    public async Task Register_TwoConcurrentRegistrationsOfOneEmail_ExactlyOneSucceeds()
    {
        string email = Api.NewEmail();
        var tasks = Enumerable.Range(0, 4).Select(i => Client.PostAsJsonAsync("/auth/register",
            new { email = i % 2 == 0 ? email : email.ToUpperInvariant(), password = Api.Password, name = "Racer" })).ToArray();
        var responses = await Task.WhenAll(tasks);
        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.Equal(3, responses.Count(r => r.StatusCode == HttpStatusCode.Conflict));
    }

    [Fact]
    public async Task Login_ValidCredentials_ReturnsFreshWellFormedTokenEachTime()
    {
        string email = Api.NewEmail();
        await Client.RegisterAsync(email);
        var response = await Client.PostAsJsonAsync("/auth/login", new { email = email.ToUpperInvariant(), password = Api.Password });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Headers.CacheControl?.NoStore);
        var json = await response.ReadJsonAsync();
        string token = json.GetProperty("token").GetString()!;
        Assert.True(Gateway.Trust.SessionToken.IsWellFormed(token));
        Assert.True(json.GetProperty("expiresAt").GetDateTime() > DateTime.UtcNow.AddDays(6));
        Assert.Equal(email, json.GetProperty("user").GetProperty("email").GetString());
        var second = await Client.LoginAsync(email);
        Assert.NotEqual(token, second.Token);
    }

    [Fact]
    public async Task Login_WrongPasswordAndUnknownEmail_GiveTheSame401Body()
    {
        string email = Api.NewEmail();
        await Client.RegisterAsync(email);
        var wrong = await Client.PostAsJsonAsync("/auth/login", new { email, password = "wrong password 123" });
        var unknown = await Client.PostAsJsonAsync("/auth/login", new { email = Api.NewEmail(), password = "wrong password 123" });
        await wrong.AssertProblemAsync(HttpStatusCode.Unauthorized, "invalid-credentials");
        await unknown.AssertProblemAsync(HttpStatusCode.Unauthorized, "invalid-credentials");
        // Identical apart from the per-request trace id.
        static string WithoutTrace(string body) => System.Text.RegularExpressions.Regex.Replace(body, "\"traceId\":\"[^\"]*\"", "");
        Assert.Equal(WithoutTrace(await wrong.Content.ReadAsStringAsync()), WithoutTrace(await unknown.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task Login_MissingFields_Returns400()
    {
        var response = await Client.PostAsJsonAsync("/auth/login", new { email = "", password = "" });
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "validation");
    }

    /// <summary>
    /// The gateway limits login attempts per account by the body's <c>email</c> (issue 14). A body the two could read as
    /// different accounts (the gateway counted the first <c>email</c>, the backend bound the last, in any letter case)
    /// is refused by both, so no attempt reaches an account the gateway did not count.
    /// </summary>
    [Theory]
    [InlineData("""{"email":"{decoy}","email":"{victim}","password":"wrong password 123"}""")]
    [InlineData("""{"email":"{decoy}","Email":"{victim}","password":"wrong password 123"}""")]
    [InlineData("""{"EMAIL":"{decoy}","eMail":"{victim}","password":"wrong password 123"}""")]
    [InlineData("""{"email":"{decoy}","\u0045mail":"{victim}","password":"wrong password 123"}""")]
    [InlineData("""{"email":"{victim}","password":"wrong password 123","password":"wrong password 456"}""")]
    public async Task Login_KeyTwiceInAnyLetterCase_Returns400AndCountsAgainstNoAccount(string template)
    {
        string victim = Api.NewEmail("victim");
        await Client.RegisterAsync(victim);
        string body = template.Replace("{decoy}", Api.NewEmail("decoy")).Replace("{victim}", victim);
        // More than the per-account throttle allows (5): had any reached the account, the victim would now be locked out.
        for (int i = 0; i < 6; i++)
            await (await PostJsonAsync("/auth/login", body)).AssertProblemAsync(HttpStatusCode.BadRequest, "validation");
        await Client.LoginAsync(victim);
    }

    [Fact]
    public async Task Login_EmailKeyInAnotherLetterCase_BindsOnce_AsTheGatewayCountsIt()
    {
        string email = Api.NewEmail();
        await Client.RegisterAsync(email);
        var response = await PostJsonAsync("/auth/login", $$"""{"EMAIL":"{{email}}","Password":"{{Api.Password}}"}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Login_LookalikeEmailKey_IsNotTheEmail_AsTheGatewayReadsIt()
    {
        // "ema\u0131l" (dotless i) is not folded to "email" by the binder, nor by the gateway's OrdinalIgnoreCase match.
        string email = Api.NewEmail();
        await Client.RegisterAsync(email);
        var response = await PostJsonAsync("/auth/login", $$"""{"emaıl":"{{email}}","password":"{{Api.Password}}"}""");
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "validation");
    }

    [Fact]
    public async Task Register_EmailKeyTwiceInAnyLetterCase_Returns400AndCreatesNoAccount()
    {
        string first = Api.NewEmail(), second = Api.NewEmail();
        var response = await PostJsonAsync("/auth/register",
            $$"""{"email":"{{first}}","Email":"{{second}}","password":"{{Api.Password}}","name":"Twice"}""");
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "validation");
        await Client.RegisterAsync(first);
        await Client.RegisterAsync(second);
    }

    private Task<HttpResponseMessage> PostJsonAsync(string path, string json) =>
        Client.PostAsync(path, new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

    [Fact]
    public async Task Login_TenWrongPasswordsAtOnce_GetAtMostTheAccountsFiveGuesses()
    {
        // Each attempt was checked before its ~40 ms verification and counted after it: sent together, all ten passed.
        string email = Api.NewEmail();
        await Client.RegisterAsync(email);
        var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(i =>
            Client.PostAsJsonAsync("/auth/login", new { email, password = "wrong password " + i })));
        var statuses = answers.Select(a => a.StatusCode).ToList();
        Assert.True(statuses.Count(s => s == HttpStatusCode.Unauthorized) <= 5, string.Join(",", statuses));
        Assert.All(statuses, s => Assert.Contains(s, new[] { HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests, HttpStatusCode.ServiceUnavailable }));
    }

    [Fact]
    public async Task Login_RepeatedFailures_Returns429WithRetryAfterAndWindowExpiryLiftsIt()
    {
        string email = Api.NewEmail();
        await Client.RegisterAsync(email);
        for (int i = 0; i < 5; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await Client.PostAsJsonAsync("/auth/login", new { email, password = "wrong password 123" })).StatusCode);
        var blocked = await Client.PostAsJsonAsync("/auth/login", new { email, password = Api.Password });
        await blocked.AssertProblemAsync(HttpStatusCode.TooManyRequests, "too-many-attempts");
        Assert.NotNull(blocked.Headers.RetryAfter);
        App.Time.Advance(TimeSpan.FromMinutes(16));
        Assert.Equal(HttpStatusCode.OK, (await Client.PostAsJsonAsync("/auth/login", new { email, password = Api.Password })).StatusCode);
    }

    /// <summary>
    /// Third-party lockout: five wrong guesses from anyone used to lock the account for every client for 15 minutes. The
    /// owner's client, holding the device token its last sign-in answered, is now counted per device and still signs in;
    /// a client without one (or with a token of another account) is still refused, and so are the device's own guesses
    /// past the same budget.
    /// </summary>
    [Fact]
    public async Task Login_StrangersFailuresLockOutOnlyClientsWithoutTheAccountsDeviceToken()
    {
        string email = Api.NewEmail();
        await Client.RegisterAsync(email);
        var first = await (await Client.PostAsJsonAsync("/auth/login", new { email, password = Api.Password })).ReadJsonAsync();
        string device = first.GetProperty("deviceToken").GetString()!;
        var stranger = await Client.NewUserAsync("stranger");
        string strangersDevice = (await (await Client.PostAsJsonAsync("/auth/login", new { email = stranger.Email, password = Api.Password })).ReadJsonAsync())
            .GetProperty("deviceToken").GetString()!;

        for (int i = 0; i < 5; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await Client.PostAsJsonAsync("/auth/login", new { email, password = "wrong password 123" })).StatusCode);
        await (await Client.PostAsJsonAsync("/auth/login", new { email, password = Api.Password })).AssertProblemAsync(HttpStatusCode.TooManyRequests, "too-many-attempts");
        await (await Client.PostAsJsonAsync("/auth/login", new { email, password = Api.Password, deviceToken = strangersDevice }))
            .AssertProblemAsync(HttpStatusCode.TooManyRequests, "too-many-attempts");

        var owner = await Client.PostAsJsonAsync("/auth/login", new { email, password = Api.Password, deviceToken = device });
        Assert.Equal(HttpStatusCode.OK, owner.StatusCode);
        string renewed = (await owner.ReadJsonAsync()).GetProperty("deviceToken").GetString()!;
        Assert.NotEqual(device, renewed);
        // The owner's sign-in did not hand strangers a fresh budget.
        await (await Client.PostAsJsonAsync("/auth/login", new { email, password = Api.Password })).AssertProblemAsync(HttpStatusCode.TooManyRequests, "too-many-attempts");

        // The device's own guesses get the account's budget, no more.
        for (int i = 0; i < 5; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await Client.PostAsJsonAsync("/auth/login", new { email, password = "wrong password 123", deviceToken = renewed })).StatusCode);
        await (await Client.PostAsJsonAsync("/auth/login", new { email, password = Api.Password, deviceToken = renewed }))
            .AssertProblemAsync(HttpStatusCode.TooManyRequests, "too-many-attempts");
    }

    [Theory]
    [InlineData("{\"d1\":1}")]
    [InlineData("[1]")]
    [InlineData("7")]
    [InlineData("true")]
    [InlineData("\"d1.\\u0000\"")]   // a string no column could store: refused like any such string
    [InlineData("\"d1.\\ud800\"")]
    public async Task Login_DeviceTokenOfAWrongType_Is400Validation(string deviceToken)
    {
        string email = Api.NewEmail();
        await Client.RegisterAsync(email);
        var response = await PostJsonAsync("/auth/login", $$"""{"email":"{{email}}","password":"{{Api.Password}}","deviceToken":{{deviceToken}}}""");
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "validation");
    }

    [Theory]
    [InlineData("")]
    [InlineData("d1.")]
    [InlineData("not a token at all")]
    [InlineData("d1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+")]
    public async Task Login_MalformedDeviceTokenString_CountsAsNone_NeverAnError(string deviceToken)
    {
        string email = Api.NewEmail();
        await Client.RegisterAsync(email);
        var response = await PostJsonAsync("/auth/login", $$"""{"email":"{{email}}","password":"{{Api.Password}}","deviceToken":"{{deviceToken}}"}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Login_RepeatedFailuresFromOneSignedClientIp_AreThrottledForThatIpOnly()
    {
        Task<HttpResponseMessage> Attempt(string email, string ip, string password)
        {
            var request = GatewaySigner.Anonymous(HttpMethod.Post, "/auth/login", App.Time.GetUtcNow().ToUnixTimeSeconds(), ip);
            request.Content = JsonContent.Create(new { email, password });
            return Client.SendAsync(request);
        }
        for (int i = 0; i < 20; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await Attempt(Api.NewEmail(), "203.0.113.5", "wrong password 123")).StatusCode);
        await (await Attempt(Api.NewEmail(), "203.0.113.5", "wrong password 123")).AssertProblemAsync(HttpStatusCode.TooManyRequests, "too-many-attempts");
        Assert.Equal(HttpStatusCode.Unauthorized, (await Attempt(Api.NewEmail(), "198.51.100.7", "wrong password 123")).StatusCode);
    }

    [Fact]
    public async Task Login_XForwardedForIsIgnored_SoFailuresBehindOneBalancerHopDoNotLockOutOtherClients()
    {
        // Before: the backend took X-Forwarded-For's last hop (the balancer the gateway appended) as the client, and 20
        // failures from anyone locked every login out for 15 minutes. Now only the gateway-signed address counts.
        var user = await Client.NewUserAsync();
        for (int i = 0; i < 21; i++)
        {
            var attacker = GatewaySigner.Anonymous(HttpMethod.Post, "/auth/login", App.Time.GetUtcNow().ToUnixTimeSeconds(), "203.0.113.66");
            attacker.Headers.Add("X-Forwarded-For", "203.0.113.66, 10.0.0.2");
            attacker.Content = JsonContent.Create(new { email = Api.NewEmail(), password = "wrong password 123" });
            await Client.SendAsync(attacker);
        }
        var victim = GatewaySigner.Anonymous(HttpMethod.Post, "/auth/login", App.Time.GetUtcNow().ToUnixTimeSeconds(), "198.51.100.20");
        victim.Headers.Add("X-Forwarded-For", "198.51.100.20, 10.0.0.2");
        victim.Content = JsonContent.Create(new { email = user.Email, password = Api.Password });
        Assert.Equal(HttpStatusCode.OK, (await Client.SendAsync(victim)).StatusCode);
    }

    [Fact]
    public async Task Login_StoresOnlyTheTokenHashInPostgresAndRedis()
    {
        var login = await Client.NewUserAsync();
        await using var listener = await InvalidationListener.StartAsync(Redis.ConnectionString);
        string? cached = await listener.Db.StringGetAsync($"gw:v1:session:{{{login.Hash}}}");
        Assert.NotNull(cached);
        Assert.Contains(login.UserId.ToString(), cached);
        Assert.DoesNotContain(login.Token, cached);
        var ttl = await listener.Db.KeyTimeToLiveAsync($"gw:v1:session:{{{login.Hash}}}");
        Assert.InRange(ttl!.Value, TimeSpan.FromMinutes(4), Gateway.Contracts.SessionRedisContract.MaxPrincipalTtl);

        await using var conn = new Npgsql.NpgsqlConnection(App.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new Npgsql.NpgsqlCommand("SELECT count(*) FROM sessions WHERE token_hash = @h", conn);
        cmd.Parameters.AddWithValue("h", login.Hash);
        Assert.Equal(1L, await cmd.ExecuteScalarAsync());
        await using var raw = new Npgsql.NpgsqlCommand("SELECT count(*) FROM sessions WHERE token_hash = @t", conn);
        raw.Parameters.AddWithValue("t", login.Token);
        Assert.Equal(0L, await raw.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Health_AnswersWithoutAuthentication()
    {
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync("/health")).StatusCode);
    }

    [Fact]
    public async Task Health_AnswersEvenWithForgedIdentityHeaders_WhileOtherRoutesRejectThem()
    {
        HttpRequestMessage Forged(string path)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Add("X-User-Id", Guid.NewGuid().ToString());
            request.Headers.Add("X-Session-Id", Guid.NewGuid().ToString());
            request.Headers.Add("X-Gateway-Timestamp", DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.Add("X-Gateway-Signature", "not-a-valid-signature");
            return request;
        }
        // Liveness does not run the identity check at all (it costs nothing and decides nothing)...
        Assert.Equal(HttpStatusCode.OK, (await Client.SendAsync(Forged("/health"))).StatusCode);
        // ...while everything else still answers a bad signature 401.
        Assert.Equal(HttpStatusCode.Unauthorized, (await Client.SendAsync(Forged("/auth/me"))).StatusCode);
    }

    [Fact]
    public async Task OpenApiDocument_IsServedAndListsTheEndpoints()
    {
        var response = await Client.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var paths = (await response.ReadJsonAsync()).GetProperty("paths");
        Assert.True(paths.TryGetProperty("/auth/login", out _));
        Assert.True(paths.TryGetProperty("/orgs/{id}/members", out _));
    }
}
