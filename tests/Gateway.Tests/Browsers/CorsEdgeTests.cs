using System.Net;
using System.Text.Json;
using Gateway.Contracts;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Http;
using TestInfrastructure;

namespace Gateway.Tests.Browsers;

/// <summary>
/// CORS answered by the real gateway for classes with a policy, in front of a recording backend: preflights never reach
/// the backend nor session validation, answers carry the headers for an allowed origin (the gateway's own 401 too) and
/// none for any other origin, whatever the backend sent.
/// </summary>
public sealed class CorsEdgeTests(RedisFixture redis) : IAsyncLifetime
{
    private const string Allowed = "http://app.example.test:5173";
    private const string Other = "http://evil.example.test";
    private FakeSessionBackend _backend = null!;
    private GatewayInstance _gateway = null!;
    private readonly TestSession _session = TestSession.Create();

    public async ValueTask InitializeAsync()
    {
        _backend = await FakeSessionBackend.StartAsync();
        _backend.Add(_session);
        // The backend answers with CORS headers of its own: the edge must override them, never let them through.
        _backend.Proxied = ctx =>
        {
            ctx.Response.Headers.AccessControlAllowOrigin = "*";
            ctx.Response.Headers.AccessControlAllowCredentials = "true";
            return ctx.Response.WriteAsync("backend:" + ctx.Request.Path.Value);
        };
        _gateway = await GatewayInstance.StartAsync(_backend.BaseUrl, redis.ConnectionString, BrowserRouteFiles.Create(Allowed));
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _backend.DisposeAsync();
    }

    private static HttpRequestMessage Preflight(string path, string origin, string method, string? headers = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, path);
        request.Headers.TryAddWithoutValidation("Origin", origin);
        request.Headers.TryAddWithoutValidation("Access-Control-Request-Method", method);
        if (headers is not null) request.Headers.TryAddWithoutValidation("Access-Control-Request-Headers", headers);
        return request;
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var v) ? string.Join(", ", v)
        : response.Content.Headers.TryGetValues(name, out var c) ? string.Join(", ", c) : null;

    [Fact]
    public async Task Preflight_FromAnAllowedOrigin_Is204WithThePolicy_AndNeitherBackendNorSessionsSeeIt()
    {
        // /auth/login is POST-only: the preflight (an OPTIONS) must still be classified as the login route's class.
        var response = await _gateway.Client.SendAsync(Preflight("/auth/login", Allowed, "POST", "content-type, x-session-cookie"));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("auth-anonymous", Header(response, "X-Route-Class"));
        Assert.Equal(Allowed, Header(response, "Access-Control-Allow-Origin"));
        Assert.Equal("true", Header(response, "Access-Control-Allow-Credentials"));
        Assert.Equal("GET, POST, DELETE", Header(response, "Access-Control-Allow-Methods"));
        Assert.Equal("Content-Type, Authorization, X-Select-Org, X-Session-Cookie", Header(response, "Access-Control-Allow-Headers"));
        Assert.Equal("600", Header(response, "Access-Control-Max-Age"));
        Assert.Contains("Origin", Header(response, "Vary"));

        // A session route: no token on a preflight (browsers never send one), still 204, no introspection.
        var session = await _gateway.Client.SendAsync(Preflight("/users/me", Allowed, "DELETE", "authorization"));
        Assert.Equal(HttpStatusCode.NoContent, session.StatusCode);
        Assert.DoesNotContain(_backend.Recording.Requests, r => r.Path is "/auth/login" or "/users/me");
        Assert.Equal(0, _backend.IntrospectionCount);
    }

    [Theory]
    [InlineData(Other, "POST", null, "origin")]
    [InlineData(Allowed, "PUT", null, "method 'PUT'")]
    [InlineData(Allowed, "POST", "x-debug", "header 'x-debug'")]
    public async Task Preflight_Refused_Is403ProblemWithoutCorsHeaders_AndNoBackendCall(string origin, string method, string? headers, string names)
    {
        var response = await _gateway.Client.SendAsync(Preflight("/users/me", origin, method, headers));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(ProblemTypes.CorsPreflightRefused, problem.GetProperty("type").GetString());
        Assert.Contains(names, problem.GetProperty("detail").GetString());
        Assert.Null(Header(response, "Access-Control-Allow-Origin"));
        Assert.Null(Header(response, "Access-Control-Allow-Methods"));
        Assert.DoesNotContain(_backend.Recording.Requests, r => r.Path == "/users/me");
    }

    [Fact]
    public async Task ActualRequest_FromAnAllowedOrigin_CarriesTheEdgesHeaders_NotTheBackends()
    {
        var request = _session.Get("/users/me");
        request.Headers.TryAddWithoutValidation("Origin", Allowed);
        var response = await _gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Allowed, Header(response, "Access-Control-Allow-Origin"));   // echoed, not the backend's '*'
        Assert.Equal("true", Header(response, "Access-Control-Allow-Credentials"));
        Assert.Equal("X-Request-Id", Header(response, "Access-Control-Expose-Headers"));
        Assert.Contains("Origin", Header(response, "Vary"));
    }

    [Fact]
    public async Task ActualRequest_FromAnotherOrigin_GetsNoCorsHeaderAtAll_EvenThoughTheBackendSentSome()
    {
        var request = _session.Get("/users/me");
        request.Headers.TryAddWithoutValidation("Origin", Other);
        var response = await _gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("backend:/users/me", await response.Content.ReadAsStringAsync());
        Assert.Null(Header(response, "Access-Control-Allow-Origin"));
        Assert.Null(Header(response, "Access-Control-Allow-Credentials"));
        Assert.Null(Header(response, "Access-Control-Expose-Headers"));
        Assert.Contains("Origin", Header(response, "Vary"));
    }

    [Fact]
    public async Task GatewayOwn401_FromAnAllowedOrigin_CarriesCorsHeaders_SoTheAppCanReadIt()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/users/me");
        request.Headers.TryAddWithoutValidation("Origin", Allowed);
        var response = await _gateway.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(Allowed, Header(response, "Access-Control-Allow-Origin"));
        Assert.Equal("true", Header(response, "Access-Control-Allow-Credentials"));
    }

    /// <summary>
    /// A cached class with a CORS policy (<c>critical-auth-cached</c>, <c>GET /auth/me</c>): the edge's own
    /// <c>Vary: Origin</c> does not make its answers uncacheable (the key holds <c>Origin</c>), each origin gets its own
    /// entry, and a hit carries the CORS headers for the origin that asked, never those of the one stored first.
    /// </summary>
    [Fact]
    public async Task ACachedClass_WithAPolicy_StillCaches_OneEntryPerOrigin_WithThatOriginsHeaders()
    {
        var user = TestSession.Create();
        _backend.Add(user);
        async Task<HttpResponseMessage> Me(string? origin)
        {
            var request = user.Get("/auth/me");
            if (origin is not null) request.Headers.TryAddWithoutValidation("Origin", origin);
            var response = await _gateway.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("critical-auth-cached", Header(response, "X-Route-Class"));
            Assert.Contains("Origin", Header(response, "Vary"));
            return response;
        }

        var allowedMiss = await Me(Allowed);
        var otherMiss = await Me(Other);
        var allowedHit = await Me(Allowed);
        var otherHit = await Me(Other);

        Assert.Equal(["MISS", "MISS", "HIT", "HIT"], new[] { allowedMiss, otherMiss, allowedHit, otherHit }.Select(r => Header(r, "X-Cache")));
        Assert.Equal(2, _backend.Recording.Requests.Count(r => r.Path == "/auth/me"));
        Assert.Equal(Allowed, Header(allowedHit, "Access-Control-Allow-Origin"));
        Assert.Equal("true", Header(allowedHit, "Access-Control-Allow-Credentials"));
        Assert.Null(Header(otherHit, "Access-Control-Allow-Origin"));
        Assert.Null(Header(otherHit, "Access-Control-Allow-Credentials"));
    }

    [Fact]
    public async Task AClassWithoutAPolicy_IsLeftAlone_TheBackendsHeadersPassAsBefore()
    {
        // 'standard-cached' (GET /orgs/{id}) has no policy in this file: the edge neither adds nor removes CORS headers.
        string org = Guid.NewGuid().ToString();
        var member = TestSession.Create(orgs: (org, "member"));
        _backend.Add(member);
        var request = member.Get("/orgs/" + org);
        request.Headers.TryAddWithoutValidation("Origin", Other);
        var response = await _gateway.Client.SendAsync(request);

        Assert.Equal("standard-cached", Header(response, "X-Route-Class"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("*", Header(response, "Access-Control-Allow-Origin"));
        Assert.True(Header(response, "Vary") is null || !Header(response, "Vary")!.Contains("Origin"));
    }
}
