using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Contracts;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Http;
using TestInfrastructure;

namespace Gateway.Tests.Browsers;

/// <summary>
/// The session cookie on the shipped login and logout routes (<c>sessionCookie</c> issue/clear), with a backend that
/// answers like the real one: the token in the login JSON, 204 on logout.
/// </summary>
public sealed class SessionCookieTests(RedisFixture redis) : IAsyncLifetime
{
    private const string Allowed = "http://app.example.test:5173";
    private FakeSessionBackend _backend = null!;
    private readonly TestSession _session = TestSession.Create();
    private readonly List<GatewayInstance> _gateways = [];

    public async ValueTask InitializeAsync()
    {
        _backend = await FakeSessionBackend.StartAsync();
        _backend.Add(_session);
        _backend.Proxied = async ctx =>
        {
            switch (ctx.Request.Path.Value)
            {
                case "/auth/login":
                    ctx.Response.Headers.CacheControl = "no-store";
                    await ctx.Response.WriteAsJsonAsync(new
                    {
                        token = _session.Token, expiresAt = DateTimeOffset.UtcNow.AddDays(7), user = new { id = _session.UserId, email = "u@example.test" },
                    });
                    return;
                case "/auth/logout":
                    ctx.Response.StatusCode = 204;
                    return;
                case "/auth/logout-all":
                    ctx.Response.StatusCode = 503;
                    return;
                default:
                    await ctx.Response.WriteAsync("backend:" + ctx.Request.Path.Value);
                    return;
            }
        };
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var g in _gateways) await g.DisposeAsync();
        await _backend.DisposeAsync();
    }

    private async Task<GatewayInstance> StartAsync(params string[] args)
    {
        var gateway = await GatewayInstance.StartAsync(_backend.BaseUrl, redis.ConnectionString, BrowserRouteFiles.Create(Allowed), null, args);
        _gateways.Add(gateway);
        return gateway;
    }

    private static HttpRequestMessage Login(string? cookieHeader = "1", string? origin = Allowed)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/auth/login")
        {
            Content = JsonContent.Create(new { email = $"{Guid.NewGuid():N}@example.test", password = "correct horse battery staple" }),
        };
        if (cookieHeader is not null) request.Headers.TryAddWithoutValidation("X-Session-Cookie", cookieHeader);
        if (origin is not null) request.Headers.TryAddWithoutValidation("Origin", origin);
        return request;
    }

    [Fact]
    public async Task LoginAskingForTheCookie_SetsItHttpOnlySecureLax_AndTheBodyNoLongerHoldsTheToken()
    {
        var gateway = await StartAsync();
        var response = await gateway.Client.SendAsync(Login());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        string setCookie = Assert.Single(response.Headers.GetValues("Set-Cookie"));
        var parts = setCookie.Split("; ");
        Assert.Equal("session=" + _session.Token, parts[0]);
        Assert.Contains("Path=/", parts);
        Assert.Contains("Secure", parts);
        Assert.Contains("HttpOnly", parts);
        Assert.Contains("SameSite=Lax", parts);
        long maxAge = long.Parse(parts.Single(p => p.StartsWith("Max-Age=", StringComparison.Ordinal))["Max-Age=".Length..]);
        Assert.InRange(maxAge, (long)TimeSpan.FromDays(7).TotalSeconds - 300, (long)TimeSpan.FromDays(7).TotalSeconds);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());

        string body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain(_session.Token, body);
        var json = JsonDocument.Parse(body).RootElement;
        Assert.False(json.TryGetProperty("token", out _));
        Assert.Equal(_session.UserId, json.GetProperty("user").GetProperty("id").GetString());
        Assert.True(json.TryGetProperty("expiresAt", out _));
        Assert.Equal(body.Length, (int)response.Content.Headers.ContentLength!);
        // The opt-in is the gateway's business: the backend never sees the header.
        Assert.DoesNotContain(_backend.ProxiedTo("/auth/login"), r => r.Headers.ContainsKey("X-Session-Cookie"));
    }

    [Fact]
    public async Task LoginWithoutAsking_IsPassedOnAsTheBackendAnswered_TokenInTheBodyAndNoCookie()
    {
        var gateway = await StartAsync();
        var response = await gateway.Client.SendAsync(Login(cookieHeader: null, origin: null));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("Set-Cookie"));
        Assert.Equal(_session.Token, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString());
    }

    [Fact]
    public async Task LoginAskingForTheCookie_FromAnUntrustedOrigin_Is403_AndTheBackendNeverSeesIt()
    {
        var gateway = await StartAsync();
        var response = await gateway.Client.SendAsync(Login(origin: "http://evil.example.test"));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(ProblemTypes.CsrfOriginMismatch, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString());
        Assert.Empty(_backend.ProxiedTo("/auth/login"));
        Assert.False(response.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task LoginWithAnUnreadableXSessionCookie_Is400Problem_WithoutABackendCall()
    {
        var gateway = await StartAsync();
        var response = await gateway.Client.SendAsync(Login(cookieHeader: "please"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(ProblemTypes.InvalidSessionCookieRequest, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString());
        Assert.Empty(_backend.ProxiedTo("/auth/login"));
    }

    [Fact]
    public async Task DeploymentSettings_ShapeTheCookie_AndAlwaysIssuesWithoutBeingAsked()
    {
        var gateway = await StartAsync("--Sessions:CookieName=__Secure-sid", "--Sessions:Cookie:SameSite=Strict", "--Sessions:Cookie:Domain=example.test",
            "--Sessions:Cookie:Path=/app", "--Sessions:Cookie:Persistent=false", "--Sessions:Cookie:IssueOnLogin=Always");
        var response = await gateway.Client.SendAsync(Login(cookieHeader: null));

        Assert.Equal($"__Secure-sid={_session.Token}; Path=/app; Domain=example.test; Secure; HttpOnly; SameSite=Strict",
            Assert.Single(response.Headers.GetValues("Set-Cookie")));
        Assert.False((await response.Content.ReadFromJsonAsync<JsonElement>()).TryGetProperty("token", out _));
    }

    [Fact]
    public async Task LogoutByCookie_ClearsIt_ButALogoutByBearerLeavesTheCookieAlone()
    {
        var gateway = await StartAsync();
        var byCookie = new HttpRequestMessage(HttpMethod.Post, "/auth/logout");
        byCookie.Headers.TryAddWithoutValidation("Cookie", "session=" + _session.Token);
        byCookie.Headers.TryAddWithoutValidation("Origin", Allowed);
        var response = await gateway.Client.SendAsync(byCookie);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        string clear = Assert.Single(response.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith("session=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; Secure; HttpOnly; SameSite=Lax", clear);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());

        var byBearer = _session.Get("/auth/logout");
        byBearer.Method = HttpMethod.Post;
        byBearer.Headers.TryAddWithoutValidation("Cookie", "session=" + _session.Token);
        var bearer = await gateway.Client.SendAsync(byBearer);
        Assert.Equal(HttpStatusCode.NoContent, bearer.StatusCode);
        Assert.False(bearer.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task ABasicAuthorizationHeader_CountsAsNoToken_SoTheSessionCookieIsRead_UnderTheCsrfCheck()
    {
        // A browser behind a Basic-auth staging proxy sends its Basic credentials with every request: the session cookie
        // beside them was ignored, and the user got "missing token" on every session route.
        var gateway = await StartAsync();
        var get = new HttpRequestMessage(HttpMethod.Get, "/users/me");
        get.Headers.TryAddWithoutValidation("Authorization", "Basic dXNlcjpwYXNz");
        get.Headers.TryAddWithoutValidation("Cookie", "session=" + _session.Token);
        var response = await gateway.Client.SendAsync(get);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("backend:/users/me", await response.Content.ReadAsStringAsync());

        // A cookie is a cookie: an unsafe request from another site is still refused, Basic header or not.
        var forged = new HttpRequestMessage(HttpMethod.Post, "/auth/logout");
        forged.Headers.TryAddWithoutValidation("Authorization", "Basic dXNlcjpwYXNz");
        forged.Headers.TryAddWithoutValidation("Cookie", "session=" + _session.Token);
        forged.Headers.TryAddWithoutValidation("Origin", "https://evil.example");
        Assert.Equal(HttpStatusCode.Forbidden, (await gateway.Client.SendAsync(forged)).StatusCode);

        // Without a cookie it is still no token.
        var bare = new HttpRequestMessage(HttpMethod.Get, "/users/me");
        bare.Headers.TryAddWithoutValidation("Authorization", "Basic dXNlcjpwYXNz");
        Assert.Equal(HttpStatusCode.Unauthorized, (await gateway.Client.SendAsync(bare)).StatusCode);
    }

    [Fact]
    public async Task LogoutAnsweredWith5xx_KeepsTheCookie_SoTheClientCanRetry()
    {
        var gateway = await StartAsync();
        var request = new HttpRequestMessage(HttpMethod.Post, "/auth/logout-all");
        request.Headers.TryAddWithoutValidation("Cookie", "session=" + _session.Token);
        request.Headers.TryAddWithoutValidation("Origin", Allowed);
        var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.False(response.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task LogoutWithADeadSession_Is401_AndStillClearsTheCookie()
    {
        var gateway = await StartAsync();
        var request = new HttpRequestMessage(HttpMethod.Post, "/auth/logout");
        request.Headers.TryAddWithoutValidation("Cookie", "session=" + TestSession.Create().Token);
        request.Headers.TryAddWithoutValidation("Origin", Allowed);
        var response = await gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("Max-Age=0", Assert.Single(response.Headers.GetValues("Set-Cookie")));
        Assert.Empty(_backend.ProxiedTo("/auth/logout"));
    }
}
