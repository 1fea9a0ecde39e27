using System.Net;
using Gateway.Tests.Support;
using TestInfrastructure;

namespace Gateway.Tests.Identity;

/// <summary>
/// The session credential stays at the edge (<c>Sessions:ForwardCredential</c>, default false): a backend gets the
/// signed identity, not the Bearer token the gateway validated, and never the session cookie, while other cookies and
/// an <c>Authorization</c> header the gateway did not read (anonymous routes) pass through.
/// </summary>
public sealed class CredentialForwardingTests(RedisFixture redis) : IAsyncLifetime
{
    private FakeSessionBackend _backend = null!;
    private GatewayInstance _gateway = null!;
    private GatewayInstance _forwarding = null!;

    public async ValueTask InitializeAsync()
    {
        _backend = await FakeSessionBackend.StartAsync();
        _gateway = await GatewayInstance.StartAsync(_backend.BaseUrl, redis.ConnectionString, RouteFiles.CreateTemp());
        _forwarding = await GatewayInstance.StartAsync(_backend.BaseUrl, redis.ConnectionString, RouteFiles.CreateTemp(),
            extraArgs: "--Sessions:ForwardCredential=true");
    }

    public async ValueTask DisposeAsync()
    {
        await _forwarding.DisposeAsync();
        await _gateway.DisposeAsync();
        await _backend.DisposeAsync();
    }

    private async Task<RecordedRequest> SendAsync(GatewayInstance gateway, HttpRequestMessage request, string path)
    {
        var response = await gateway.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return _backend.ProxiedTo(path).Last();
    }

    [Fact]
    public async Task ValidatedBearerToken_DoesNotReachTheBackend_ItsIdentityDoes()
    {
        var session = TestSession.Create();
        _backend.Add(session);

        var received = await SendAsync(_gateway, session.Get("/users/me"), "/users/me");

        Assert.False(received.Headers.ContainsKey("Authorization"));
        Assert.DoesNotContain(received.Headers.Values, v => v.Contains(session.Token, StringComparison.Ordinal));
        Assert.Equal(session.UserId, received.Headers["X-User-Id"]);
    }

    [Fact]
    public async Task SessionCookie_DoesNotReachTheBackend_OtherCookiesDo()
    {
        var session = TestSession.Create();
        _backend.Add(session);
        var request = new HttpRequestMessage(HttpMethod.Get, "/users/me");
        request.Headers.TryAddWithoutValidation("Cookie", $"theme=dark; session={session.Token}; sessionless=1");

        var received = await SendAsync(_gateway, request, "/users/me");

        Assert.Equal(session.UserId, received.Headers["X-User-Id"]);
        Assert.Equal("theme=dark; sessionless=1", received.Headers["Cookie"]);
    }

    [Theory]
    [InlineData("SESSION")]
    [InlineData("sEsSiOn")]
    public async Task SessionCookie_InAnotherLetterCase_AuthenticatesButDoesNotReachTheBackend(string name)
    {
        // ASP.NET Core's cookie collection, which the session stage reads, matches names without case: the spelling
        // that authenticated must be the one that stays at the edge.
        var session = TestSession.Create();
        _backend.Add(session);
        var request = new HttpRequestMessage(HttpMethod.Get, "/users/me");
        request.Headers.TryAddWithoutValidation("Cookie", $"{name}={session.Token}; theme=dark");

        var received = await SendAsync(_gateway, request, "/users/me");

        Assert.Equal(session.UserId, received.Headers["X-User-Id"]);
        Assert.Equal("theme=dark", received.Headers["Cookie"]);
    }

    /// <summary>
    /// The session is found in the <c>Cookie</c> header the way it is stripped from it: pairs split on <c>;</c> only. A
    /// token hidden in another pair (after a <c>,</c>, or behind a malformed name) is not the session: it does not
    /// authenticate (401), so it cannot authenticate while the strip, finding no pair of that name, forwards it. (These
    /// also held with the reader before 2026-12-05, ASP.NET Core's cookie collection; they guard the one reading both use now.)
    /// </summary>
    [Theory]
    [InlineData("theme=dark,session={0}")]
    [InlineData("x\"session={0}")]
    public async Task ASessionCookieHiddenInAnotherPair_DoesNotAuthenticate(string cookie)
    {
        var session = TestSession.Create();
        _backend.Add(session);
        var request = new HttpRequestMessage(HttpMethod.Get, "/users/me");
        request.Headers.TryAddWithoutValidation("Cookie", string.Format(cookie, session.Token));

        var response = await _gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(_backend.ProxiedTo("/users/me"));
    }

    /// <summary>
    /// A cookie smuggled inside another pair's value (what a sibling subdomain can set: browsers allow <c>,</c> in values)
    /// does not override the real one: <c>x=1,session=B</c> after <c>session=A</c> is A's request.
    /// </summary>
    [Fact]
    public async Task ACookieSmuggledInAnotherPairsValue_DoesNotOverrideTheSession()
    {
        var victim = TestSession.Create();
        var attacker = TestSession.Create();
        _backend.Add(victim);
        _backend.Add(attacker);
        var request = new HttpRequestMessage(HttpMethod.Get, "/users/me");
        request.Headers.TryAddWithoutValidation("Cookie", $"session={victim.Token}; x=1,session={attacker.Token}");

        var received = await SendAsync(_gateway, request, "/users/me");

        Assert.Equal(victim.UserId, received.Headers["X-User-Id"]);
    }

    [Fact]
    public async Task AnonymousRoute_KeepsAnAuthorizationHeaderTheGatewayDidNotRead_ButDropsTheSessionCookie()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/auth/register") { Content = new StringContent("{}") };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer partner-api-key");
        request.Headers.TryAddWithoutValidation("Cookie", "session=someone-elses-token");

        var received = await SendAsync(_gateway, request, "/auth/register");

        Assert.Equal("Bearer partner-api-key", received.Headers["Authorization"]);
        Assert.False(received.Headers.ContainsKey("Cookie"));
    }

    [Fact]
    public async Task ForwardCredentialOn_TheBackendGetsTokenAndCookieAsSent()
    {
        var session = TestSession.Create();
        _backend.Add(session);
        var request = session.Get("/users/me");
        request.Headers.TryAddWithoutValidation("Cookie", "theme=dark; session=other");

        var received = await SendAsync(_forwarding, request, "/users/me");

        Assert.Equal($"Bearer {session.Token}", received.Headers["Authorization"]);
        Assert.Equal("theme=dark; session=other", received.Headers["Cookie"]);
    }
}
