using System.Net;
using System.Text.Json;
using Gateway.Contracts;
using Gateway.Tests.Support;
using TestInfrastructure;

namespace Gateway.Tests.Browsers;

/// <summary>
/// The CSRF origin check of cookie-authenticated requests on the real gateway: a state-changing request carrying the
/// session cookie from an origin nobody trusts is refused 403 before any lookup or backend call; the same request with
/// a Bearer token is not the check's business.
/// </summary>
public sealed class CsrfTests(RedisFixture redis) : IAsyncLifetime
{
    private const string Allowed = "http://app.example.test:5173";
    private const string Trusted = "https://admin.example.test";
    private const string Other = "http://evil.example.test";
    private FakeSessionBackend _backend = null!;
    private GatewayInstance _gateway = null!;
    private readonly TestSession _session = TestSession.Create();

    public async ValueTask InitializeAsync()
    {
        _backend = await FakeSessionBackend.StartAsync();
        _backend.Add(_session);
        _gateway = await GatewayInstance.StartAsync(_backend.BaseUrl, redis.ConnectionString, BrowserRouteFiles.Create(Allowed),
            null, $"--Sessions:Csrf:TrustedOrigins:0={Trusted}");
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _backend.DisposeAsync();
    }

    private Task<HttpResponseMessage> Send(HttpMethod method, string? origin = null, string? referer = null, bool bearer = false, string? cookie = null)
    {
        var request = new HttpRequestMessage(method, "/users/me/settings");
        if (bearer) request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + _session.Token);
        else request.Headers.TryAddWithoutValidation("Cookie", "session=" + (cookie ?? _session.Token));
        if (origin is not null) request.Headers.TryAddWithoutValidation("Origin", origin);
        if (referer is not null) request.Headers.TryAddWithoutValidation("Referer", referer);
        return _gateway.Client.SendAsync(request);
    }

    private int Forwarded => _backend.ProxiedTo("/users/me/settings").Length;

    [Theory]
    [InlineData(Other, null)]
    [InlineData(null, null)]                                   // neither header: refused, not guessed
    [InlineData("null", null)]                                 // opaque origin (sandboxed frame)
    [InlineData(null, "http://evil.example.test/page")]
    public async Task CookiePost_FromAnUntrustedOrNoOrigin_Is403_BeforeAnyLookupOrBackendCall(string? origin, string? referer)
    {
        var response = await Send(HttpMethod.Post, origin, referer);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(ProblemTypes.CsrfOriginMismatch, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("type").GetString());
        Assert.Equal(0, Forwarded);
        Assert.Equal(0, _backend.IntrospectionCount);
        Assert.False(response.Headers.Contains("Set-Cookie"), "a refused forgery must not clear the user's cookie");
    }

    [Theory]
    [InlineData(Allowed, null)]                               // the class's credentialed CORS origin
    [InlineData(Trusted, null)]                               // Sessions:Csrf:TrustedOrigins
    [InlineData(null, Allowed + "/settings?tab=1")]           // no Origin: the Referer's origin
    public async Task CookieDelete_FromATrustedOrigin_Passes(string? origin, string? referer)
    {
        var response = await Send(HttpMethod.Delete, origin, referer);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, Forwarded);
    }

    [Fact]
    public async Task CookiePost_FromTheGatewaysOwnOrigin_Passes()
    {
        var response = await Send(HttpMethod.Post, origin: _gateway.BaseUrl);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task BearerPost_FromAnyOrigin_IsNotAffected()
    {
        var response = await Send(HttpMethod.Post, origin: Other, bearer: true);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, Forwarded);
    }

    [Fact]
    public async Task CookieGet_FromAnyOrigin_IsNotAChangeAndPasses()
    {
        var response = await Send(HttpMethod.Get, origin: Other);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task DeadCookie_Is401_AndTheAnswerClearsIt()
    {
        var response = await Send(HttpMethod.Get, cookie: TestSession.Create().Token);   // well-formed, unknown to the backend

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        string setCookie = Assert.Single(response.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith("session=;", setCookie);
        Assert.Contains("Max-Age=0", setCookie);
        Assert.Contains("Path=/", setCookie);
        Assert.Contains("HttpOnly", setCookie);
    }

    [Fact]
    public async Task DeadBearer_Is401_AndLeavesCookiesAlone()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/users/me");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + TestSession.Create().Token);
        request.Headers.TryAddWithoutValidation("Cookie", "session=" + _session.Token);
        var response = await _gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.False(response.Headers.Contains("Set-Cookie"));
    }
}
