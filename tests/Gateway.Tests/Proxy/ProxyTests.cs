using System.Net;
using Gateway.Tests.Support;
using Gateway.Trust;
using TestInfrastructure;

namespace Gateway.Tests.Proxy;

public sealed class ProxyTests(RedisFixture redis) : IAsyncLifetime
{
    private FakeSessionBackend _backend = null!;
    private GatewayInstance _gateway = null!;

    public async ValueTask InitializeAsync()
    {
        _backend = await FakeSessionBackend.StartAsync();
        _gateway = await GatewayInstance.StartAsync(_backend.BaseUrl, redis.ConnectionString, RouteFiles.CreateTemp());
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _backend.DisposeAsync();
    }

    [Fact]
    public async Task AnonymousRoute_IsProxiedToTheBackendOverRealSockets()
    {
        var response = await _gateway.Client.PostAsync("/auth/login?next=%2Fhome", new StringContent("{\"email\":\"a@example.com\"}"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("backend:/auth/login", await response.Content.ReadAsStringAsync());
        var received = Assert.Single(_backend.ProxiedTo("/auth/login"));
        Assert.Equal("POST", received.Method);
        Assert.Equal("?next=%2Fhome", received.Query);
        Assert.Equal("{\"email\":\"a@example.com\"}", received.Body);
        // Anonymous, but signed: the backend trusts the client address on /auth/login only because of this signature.
        Assert.False(received.Headers.ContainsKey(IdentityHeaders.UserId));
        Assert.Equal("127.0.0.1", received.Headers[IdentityHeaders.ClientIp]);
        Assert.True(GatewayInstance.Verifier.Verify("POST", "/auth/login", received.Query, long.Parse(received.Headers[IdentityHeaders.Timestamp]),
            "127.0.0.1", new SignedIdentity("", "", "", ""), received.Headers[IdentityHeaders.Signature]));
        Assert.Equal("auth-anonymous", response.Headers.GetValues("X-Route-Class").Single());
    }

    [Fact]
    public async Task ProxiedRequests_AreCountedByTheBreakerOfTheirRouteFileCluster_NotOfTheBackendAddress()
    {
        var response = await _gateway.Client.PostAsync("/auth/login", new StringContent("{}"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var breakers = _gateway.Get<Gateway.Resilience.BackendResilience>().Snapshot();
        Assert.Equal("backend", Assert.Single(breakers).Key);   // the cluster id in route-classes.json
    }

    [Fact]
    public async Task SessionRoute_CarriesSignedIdentityHeadersThatVerify()
    {
        string orgId = Guid.NewGuid().ToString();
        var session = TestSession.Create(orgs: (orgId, "admin"));
        _backend.Add(session);
        var request = session.Get("/users/me/profile");
        request.Headers.Add("X-Select-Org", orgId);
        var response = await _gateway.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var received = Assert.Single(_backend.ProxiedTo("/users/me/profile"));
        Assert.Equal(session.UserId, received.Headers[IdentityHeaders.UserId]);
        Assert.Equal(orgId, received.Headers[IdentityHeaders.OrgId]);
        Assert.Equal("admin", received.Headers[IdentityHeaders.OrgRole]);
        var id = new SignedIdentity(session.UserId, session.SessionId, orgId, "admin");
        long ts = long.Parse(received.Headers[IdentityHeaders.Timestamp]);
        Assert.Equal(GatewayInstance.SigningKeyId, received.Headers[IdentityHeaders.KeyId]);
        Assert.True(GatewayInstance.Verifier.Verify("GET", "/users/me/profile", "", ts, "127.0.0.1", id, received.Headers[IdentityHeaders.Signature]));
    }

    [Fact]
    public async Task EveryResponse_CarriesXRouteClass()
    {
        var session = TestSession.Create();
        _backend.Add(session);
        var responses = new[]
        {
            await _gateway.Client.GetAsync("/health"),
            await _gateway.Client.GetAsync("/ready"),
            await _gateway.Client.GetAsync("/users/me"),
            await _gateway.Client.SendAsync(session.Get("/audit/events")),
            await _gateway.Client.SendAsync(session.Get("/no/such/route")),
            await _gateway.Client.SendAsync(session.Get("/internal/sessions/introspect")),
        };
        string[] expected = ["health", "health", "critical-auth", "standard", "standard", "standard"];
        for (int i = 0; i < responses.Length; i++)
            Assert.Equal(expected[i], responses[i].Headers.GetValues("X-Route-Class").Single());
    }

    [Fact]
    public async Task InternalPaths_AreNeverProxied()
    {
        var session = TestSession.Create();
        _backend.Add(session);
        var request = session.Get("/internal/sessions/introspect");
        var response = await _gateway.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var anonymous = await _gateway.Client.PostAsync("/internal/sessions/touch", new StringContent("{}"));
        Assert.NotEqual(HttpStatusCode.OK, anonymous.StatusCode);
        Assert.DoesNotContain(_backend.Recording.Requests, r => r.Path.StartsWith("/internal") && !r.Headers.ContainsKey("X-Gateway-Secret"));
    }

    [Fact]
    public async Task InternalPaths_AreNeverProxied_ThroughARouteThatRemovesAPrefix()
    {
        // The refusal is about the path the backend gets: /api/internal/x through a route removing /api is /internal/x.
        await using var gateway = await GatewayInstance.StartAsync(_backend.BaseUrl, redis.ConnectionString, RouteFiles.CreateTemp(j =>
        {
            RouteFiles.AddRoute(j, "api", "/api/{**rest}", "standard");
            j["routes"]!["api"]!["pathRemovePrefix"] = "/api";
        }));
        var session = TestSession.Create();
        _backend.Add(session);

        foreach (var path in new[] { "/api/internal/sessions/introspect", "/API/Internal/sessions/touch", "/api/internal" })
            Assert.Equal(HttpStatusCode.NotFound, (await gateway.Client.SendAsync(session.Get(path))).StatusCode);
        Assert.DoesNotContain(_backend.Recording.Requests, r => r.Path.StartsWith("/internal", StringComparison.OrdinalIgnoreCase)
            && !r.Headers.ContainsKey("X-Gateway-Secret"));

        // The route itself still works, and a path that only starts like it is not cut.
        Assert.Equal(HttpStatusCode.OK, (await gateway.Client.SendAsync(session.Get("/api/users/me/profile"))).StatusCode);
        Assert.Single(_backend.ProxiedTo("/users/me/profile"));
        Assert.Equal(HttpStatusCode.OK, (await gateway.Client.SendAsync(session.Get("/api/internalish"))).StatusCode);
        Assert.Single(_backend.ProxiedTo("/internalish"));
    }
}
