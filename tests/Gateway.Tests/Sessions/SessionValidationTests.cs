using Gateway.Contracts;
using System.Net;
using Gateway.Redis;
using Gateway.Sessions;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using TestInfrastructure;

namespace Gateway.Tests.Sessions;

public sealed class SessionValidationTests(RedisFixture redis) : IAsyncLifetime
{
    private FakeSessionBackend _backend = null!;
    private GatewayInstance _gateway = null!;
    private CountingRedisClient _counting = null!;
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);

    public async ValueTask InitializeAsync()
    {
        _backend = await FakeSessionBackend.StartAsync();
        _gateway = await GatewayInstance.StartAsync(_backend.BaseUrl, redis.ConnectionString, RouteFiles.CreateTemp(j =>
        {
            j["classes"]!["org-admin"] = new System.Text.Json.Nodes.JsonObject
            {
                ["tier"] = "standard", ["budgetMs"] = 200, ["auth"] = "role:admin", ["timeoutMs"] = 10000,
            };
            RouteFiles.AddRoute(j, "org-settings", "/orgs/{id}/settings", "org-admin");
            RouteFiles.AddRoute(j, "api-org-settings", "/api/orgs/{id}/settings", "org-admin");
            j["routes"]!["api-org-settings"]!["pathRemovePrefix"] = "/api";
        }), builder =>
        {
            builder.Services.AddSingleton<TimeProvider>(_clock);
            builder.Services.AddSingleton<IRedisClient>(sp => _counting = new CountingRedisClient(ActivatorUtilities.CreateInstance<RedisClient>(sp)));
        }, "--Sessions:L1Ttl=01:00:00");
        _ = _gateway.Get<IRedisClient>();
        await Poll.UntilAsync(() => _counting.IsAvailable, "the gateway is connected to Redis");
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _backend.DisposeAsync();
    }

    private Task<HttpResponseMessage> Send(string path, string? authorization, string? cookie = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (authorization is not null) request.Headers.TryAddWithoutValidation("Authorization", authorization);
        if (cookie is not null) request.Headers.TryAddWithoutValidation("Cookie", cookie);
        return _gateway.Client.SendAsync(request);
    }

    [Theory]
    [InlineData("Bearer short")]
    [InlineData("Bearer 0123456789012345678901234567890123456789012345")]
    [InlineData("Bearer 0123456789012345678901234567890123456789+/=")]
    [InlineData("Bearer 012345678901234567890123456789012345678.!")]
    public async Task MalformedToken_Is401_WithoutAnyRedisOrBackendCall(string authorization)
    {
        int reads = _counting.SessionReads;
        var response = await Send("/users/me", authorization);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer error=\"invalid_token\"", response.Headers.WwwAuthenticate.ToString());
        Assert.Contains("https://gateway.dev/problems/invalid-token", await response.Content.ReadAsStringAsync());
        Assert.Equal(reads, _counting.SessionReads);
        Assert.Equal(0, _backend.IntrospectionCount);
    }

    [Fact]
    public async Task MalformedCookieToken_Is401_WithoutAnyCall()
    {
        var response = await Send("/users/me", null, "session=not-a-token");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(0, _counting.SessionReads);
        Assert.Equal(0, _backend.IntrospectionCount);
    }

    [Fact]
    public async Task NoToken_Is401WithPlainBearerChallenge()
    {
        var response = await Send("/users/me", null);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task SeveralAuthorizationHeaders_Are400()
    {
        var session = TestSession.Create();
        _backend.Add(session);
        // HttpClient folds repeated headers into one line, so send two separate header lines over a raw socket.
        var uri = new Uri(_gateway.BaseUrl);
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(uri.Host, uri.Port);
        var stream = tcp.GetStream();
        string raw = $"GET /users/me HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {session.Token}\r\nAuthorization: Bearer {session.Token}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(raw));
        string reply = await new StreamReader(stream).ReadToEndAsync();
        Assert.StartsWith("HTTP/1.1 400", reply);
        Assert.Equal(0, _backend.IntrospectionCount);
    }

    [Fact]
    public async Task TokenInQueryString_IsIgnored()
    {
        var session = TestSession.Create();
        _backend.Add(session);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send("/users/me?access_token=" + session.Token + "&session=" + session.Token, null)).StatusCode);
    }

    [Fact]
    public async Task ValidCookieToken_IsAccepted()
    {
        var session = TestSession.Create();
        _backend.Add(session);
        Assert.Equal(HttpStatusCode.OK, (await Send("/users/me", null, "theme=dark; session=" + session.Token)).StatusCode);
    }

    [Fact]
    public async Task ConcurrentColdRequests_MakeExactlyOneIntrospectionCall()
    {
        var session = TestSession.Create();
        _backend.Add(session);
        _backend.IntrospectionDelay = TimeSpan.FromMilliseconds(300);
        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => _gateway.Client.SendAsync(session.Get("/users/me"))));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(1, _backend.IntrospectionCount);
    }

    [Fact]
    public async Task UnknownToken_IsCachedNegatively()
    {
        var unknown = TestSession.Create();
        Assert.Equal(HttpStatusCode.Unauthorized, (await _gateway.Client.SendAsync(unknown.Get("/users/me"))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _gateway.Client.SendAsync(unknown.Get("/users/me"))).StatusCode);
        Assert.Equal(1, _backend.IntrospectionCount);
    }

    [Fact]
    public async Task IntrospectionFailure_IsNotCachedNegatively()
    {
        var session = TestSession.Create();
        _backend.Add(session);
        _backend.IntrospectionFails = true;
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await _gateway.Client.SendAsync(session.Get("/audit/x"))).StatusCode);
        _backend.IntrospectionFails = false;
        Assert.Equal(HttpStatusCode.OK, (await _gateway.Client.SendAsync(session.Get("/audit/x"))).StatusCode);
    }

    [Fact]
    public async Task WriteThroughAfterIntrospection_SessionRevokedSinceTheBackendAnswered_LeavesNoPrincipalInRedis()
    {
        // The backend vouched for the session, then it was revoked (fence raised) before the gateway's write arrived.
        var session = TestSession.Create();
        _backend.Add(session);
        var redis = _gateway.Get<IRedisClient>();
        await redis.SetAsync(SessionRedisContract.FenceKey(session.Hex), SessionRedisContract.Revoked, TimeSpan.FromMinutes(5));

        Assert.Equal(HttpStatusCode.OK, (await _gateway.Client.SendAsync(session.Get("/users/me"))).StatusCode);

        Assert.Null((await redis.GetStringAsync(SessionRedisContract.SessionKey(session.Hex))).Value);
    }

    [Theory]
    [InlineData(3, false)]
    [InlineData(5, true)]
    [InlineData(6, true)]
    public async Task WriteThroughAfterIntrospection_PrincipalBelowTheMembershipFence_IsNotStored(long version, bool stored)
    {
        var session = TestSession.Create(version: version);
        _backend.Add(session);
        var redis = _gateway.Get<IRedisClient>();
        await redis.SetAsync(SessionRedisContract.FenceKey(session.Hex), "5", TimeSpan.FromMinutes(5));

        Assert.Equal(HttpStatusCode.OK, (await _gateway.Client.SendAsync(session.Get("/users/me"))).StatusCode);

        Assert.Equal(stored, (await redis.GetStringAsync(SessionRedisContract.SessionKey(session.Hex))).Value is not null);
    }

    [Fact]
    public async Task ExpiredPrincipalFromL2_Is401()
    {
        var session = TestSession.Create(expiresAt: DateTimeOffset.UtcNow.AddMinutes(-1));
        await _gateway.Get<IRedisClient>().SetAsync(SessionRedisContract.SessionKey(session.Hex), session.Json, TimeSpan.FromMinutes(5));
        var response = await _gateway.Client.SendAsync(session.Get("/users/me"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(0, _backend.IntrospectionCount);
    }

    [Fact]
    public async Task L1EntryPastSessionExpiry_Is401()
    {
        var session = TestSession.Create(idleExpiresAt: DateTimeOffset.UtcNow.AddMinutes(10));
        _backend.Add(session);
        Assert.Equal(HttpStatusCode.OK, (await _gateway.Client.SendAsync(session.Get("/users/me"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _gateway.Client.SendAsync(session.Get("/users/me"))).StatusCode);
        Assert.Equal(1, _backend.IntrospectionCount);

        _clock.Advance(TimeSpan.FromMinutes(11));
        Assert.Equal(HttpStatusCode.Unauthorized, (await _gateway.Client.SendAsync(session.Get("/users/me"))).StatusCode);
    }

    [Fact]
    public async Task MissingOrgRole_Is403_AndSufficientRoleIsSigned()
    {
        string memberOrg = Guid.NewGuid().ToString(), adminOrg = Guid.NewGuid().ToString(), otherOrg = Guid.NewGuid().ToString();
        var session = TestSession.Create(orgs: [(memberOrg, "member"), (adminOrg, "admin")]);
        _backend.Add(session);

        var member = await _gateway.Client.SendAsync(session.Get($"/orgs/{memberOrg}/settings"));
        Assert.Equal(HttpStatusCode.Forbidden, member.StatusCode);
        Assert.Contains("https://gateway.dev/problems/insufficient-role", await member.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, (await _gateway.Client.SendAsync(session.Get($"/orgs/{otherOrg}/settings"))).StatusCode);

        var admin = await _gateway.Client.SendAsync(session.Get($"/orgs/{adminOrg}/settings"));
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        var received = Assert.Single(_backend.ProxiedTo($"/orgs/{adminOrg}/settings"));
        Assert.Equal(adminOrg, received.Headers["X-Org-Id"]);
        Assert.Equal("admin", received.Headers["X-Org-Role"]);
        Assert.Empty(_backend.ProxiedTo($"/orgs/{memberOrg}/settings"));
    }

    [Fact]
    public async Task AHeaderNamingAnotherOrgThanThePath_Is400_AndNothingIsForwarded()
    {
        // A member of one org and admin of another must not pass the first org's admin route by selecting the second:
        // the role check and the signed X-Org-* were about the header's org while the backend acted on the path's.
        string memberOrg = Guid.NewGuid().ToString(), adminOrg = Guid.NewGuid().ToString();
        var session = TestSession.Create(orgs: [(memberOrg, "member"), (adminOrg, "admin")]);
        _backend.Add(session);

        var request = session.Get($"/orgs/{memberOrg}/settings");
        request.Headers.Add("X-Select-Org", adminOrg);
        var response = await _gateway.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("https://gateway.dev/problems/organisation-conflict", await response.Content.ReadAsStringAsync());
        Assert.Empty(_backend.ProxiedTo($"/orgs/{memberOrg}/settings"));

        // The same on a route without a role: the membership check must be about the path's org too.
        var notMember = session.Get($"/orgs/{Guid.NewGuid()}/members");
        notMember.Headers.Add("X-Select-Org", adminOrg);
        Assert.Equal(HttpStatusCode.BadRequest, (await _gateway.Client.SendAsync(notMember)).StatusCode);
    }

    [Fact]
    public async Task ThroughARouteThatRemovesAPrefix_TheOrgIsThePathTheBackendGets()
    {
        // /api/orgs/{A}/settings reaches the backend as /orgs/{A}/settings. The org was read from the client's path only,
        // so it found none there: the header's org B (where the caller is admin) was checked and signed as X-Org-*
        // while the backend acted on A, where the caller is a member; and an admin of A was refused 403.
        string memberOrg = Guid.NewGuid().ToString(), adminOrg = Guid.NewGuid().ToString();
        var session = TestSession.Create(orgs: [(memberOrg, "member"), (adminOrg, "admin")]);
        _backend.Add(session);

        var pickedBeside = session.Get($"/api/orgs/{memberOrg}/settings");
        pickedBeside.Headers.Add("X-Select-Org", adminOrg);
        var conflict = await _gateway.Client.SendAsync(pickedBeside);
        Assert.Equal(HttpStatusCode.BadRequest, conflict.StatusCode);
        Assert.Contains("https://gateway.dev/problems/organisation-conflict", await conflict.Content.ReadAsStringAsync());

        var member = await _gateway.Client.SendAsync(session.Get($"/api/orgs/{memberOrg}/settings"));
        Assert.Equal(HttpStatusCode.Forbidden, member.StatusCode);
        Assert.Contains("https://gateway.dev/problems/insufficient-role", await member.Content.ReadAsStringAsync());
        Assert.Empty(_backend.ProxiedTo($"/orgs/{memberOrg}/settings"));

        var admin = await _gateway.Client.SendAsync(session.Get($"/API/orgs/{adminOrg}/settings"));
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        var received = Assert.Single(_backend.ProxiedTo($"/orgs/{adminOrg}/settings"));
        Assert.Equal(adminOrg, received.Headers["X-Org-Id"]);
        Assert.Equal("admin", received.Headers["X-Org-Role"]);
    }

    [Fact]
    public async Task AHeaderNamingThePathsOrg_InAnySpelling_IsAccepted()
    {
        string adminOrg = Guid.NewGuid().ToString();
        var session = TestSession.Create(orgs: (adminOrg, "admin"));
        _backend.Add(session);
        var request = session.Get($"/orgs/{adminOrg}/settings");
        request.Headers.Add("X-Select-Org", adminOrg.ToUpperInvariant());
        Assert.Equal(HttpStatusCode.OK, (await _gateway.Client.SendAsync(request)).StatusCode);
        var received = Assert.Single(_backend.ProxiedTo($"/orgs/{adminOrg}/settings"));
        Assert.Equal(adminOrg, received.Headers["X-Org-Id"]);
        Assert.Equal("admin", received.Headers["X-Org-Role"]);
    }

    [Fact]
    public async Task SelectingAnOrgTheUserIsNotIn_Is403()
    {
        var session = TestSession.Create(orgs: (Guid.NewGuid().ToString(), "owner"));
        _backend.Add(session);
        var request = session.Get("/users/me");
        request.Headers.Add("X-Select-Org", Guid.NewGuid().ToString());
        Assert.Equal(HttpStatusCode.Forbidden, (await _gateway.Client.SendAsync(request)).StatusCode);
    }

    [Fact]
    public async Task SelectedOrg_IsForwardedInThePrincipalsSpelling()
    {
        string orgId = Guid.NewGuid().ToString();
        var session = TestSession.Create(orgs: (orgId, "member"));
        _backend.Add(session);
        var request = session.Get("/users/me/orgs");
        request.Headers.Add("X-Select-Org", orgId.ToUpperInvariant());
        Assert.Equal(HttpStatusCode.OK, (await _gateway.Client.SendAsync(request)).StatusCode);
        var received = Assert.Single(_backend.ProxiedTo("/users/me/orgs"));
        Assert.Equal(orgId, received.Headers["X-Org-Id"]);
        Assert.Equal("member", received.Headers["X-Org-Role"]);
    }

    [Fact]
    public async Task ValidatedSessions_AreFlushedToTouch()
    {
        var session = TestSession.Create();
        _backend.Add(session);
        Assert.Equal(HttpStatusCode.OK, (await _gateway.Client.SendAsync(session.Get("/users/me"))).StatusCode);
        await _gateway.Get<SessionActivityTracker>().FlushAsync(CancellationToken.None);
        Assert.Contains(session.Hex, _backend.Touched);
    }
}
