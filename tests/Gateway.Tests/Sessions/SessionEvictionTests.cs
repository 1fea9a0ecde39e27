using System.Net;
using Gateway.Contracts;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Http;
using TestInfrastructure;

namespace Gateway.Tests.Sessions;

/// <summary>Sessions a confirmed logout, logout-all or password change revoked are refused at once by the instance that carried it.</summary>
public sealed class SessionEvictionTests(RedisFixture redis)
{
    [Fact]
    public async Task TheNextRequestAfterALogoutTheBackendConfirmed_IsRefused_WithoutWaitingForPubSub()
    {
        // The backend revokes before it answers (Redis principal deleted, fence set) and publishes the invalidation; the
        // gateway's L1 was evicted only when it handled that message, on a thread of its own. A client that sent its next
        // request the moment the logout returned was served from L1 (a CI run saw 200 instead of 401). This backend
        // revokes but never publishes, so only the logout's own answer can evict.
        await using var stack = await StartAsync(logoutStatus: 204);
        Assert.Equal(HttpStatusCode.NoContent, await stack.LogoutAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, await stack.GetAsync());
    }

    [Fact]
    public async Task ALogoutTheBackendRefused_EvictsNothing()
    {
        await using var stack = await StartAsync(logoutStatus: 503);   // revocation pending: the session may still be alive
        int introspections = stack.Backend.IntrospectionsOf(stack.Session.Hex);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await stack.LogoutAsync());
        Assert.Equal(HttpStatusCode.OK, await stack.GetAsync());
        Assert.Equal(introspections, stack.Backend.IntrospectionsOf(stack.Session.Hex));   // still from L1
    }

    /// <summary>
    /// A logout-all, a password change and a session revoked from the list revoke other sessions of the user: the instance
    /// that carried the request refuses them at once. Until 2026-12-05 a logout-all evicted only the calling session, the
    /// other two nothing, and the revoked sessions were served from L1 until the invalidation message came (this backend
    /// never publishes it). The shipped route file marks these routes (<c>sessionCookie: clear</c>, <c>evictsSessions</c>).
    /// </summary>
    [Theory]
    [InlineData("POST", "/auth/logout-all")]
    [InlineData("PUT", "/users/password")]
    [InlineData("DELETE", "/users/me/sessions/{other}")]
    public async Task AfterTheBackendConfirmedIt_TheUsersRevokedSession_IsRefusedAtOnce(string method, string target)
    {
        await using var backend = await FakeSessionBackend.StartAsync();
        string userId = Guid.NewGuid().ToString();
        var current = TestSession.Create(userId: userId);
        var other = TestSession.Create(userId: userId);
        var stranger = TestSession.Create();
        foreach (var s in new[] { current, other, stranger }) backend.Add(s);
        string path = target.Replace("{other}", other.SessionId);
        backend.Proxied = async ctx =>
        {
            if (ctx.Request.Path != path) { await ctx.Response.WriteAsync("backend:" + ctx.Request.Path.Value); return; }
            backend.Sessions.TryRemove(other.Hex, out _);
            await redis.Server.CliAsync("DEL", SessionRedisContract.SessionKey(other.Hex));
            ctx.Response.StatusCode = 204;
        };
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, redis.ConnectionString, RouteFiles.CreateTemp());
        async Task<HttpStatusCode> GetAsync(TestSession s) => (await gateway.Client.SendAsync(s.Get("/users/me/sessions"))).StatusCode;
        foreach (var s in new[] { other, stranger }) Assert.Equal(HttpStatusCode.OK, await GetAsync(s));   // in L1 now
        int strangerIntrospections = backend.IntrospectionsOf(stranger.Hex);

        var change = new HttpRequestMessage(new HttpMethod(method), path);
        change.Headers.TryAddWithoutValidation("Authorization", "Bearer " + current.Token);
        if (method != "DELETE") change.Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");
        Assert.Equal(HttpStatusCode.NoContent, (await gateway.Client.SendAsync(change)).StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(other));
        Assert.Equal(HttpStatusCode.OK, await GetAsync(stranger));
        Assert.Equal(strangerIntrospections, backend.IntrospectionsOf(stranger.Hex));   // another user's: still from L1
    }

    /// <summary>
    /// A membership change rewrites the principal of the member the route names, not the admin's who sent it: the
    /// instance that carried it looks the member's sessions up again at once (here the backend dropped the member's
    /// principal from Redis, as it does, and is asked again), instead of serving the old role from L1 until the message.
    /// </summary>
    [Theory]
    [InlineData("PATCH", "D")]
    [InlineData("DELETE", "D")]
    [InlineData("PATCH", "upper")]   // the backend takes any GUID spelling; the gateway keyed L1 by the text and evicted nothing
    [InlineData("DELETE", "N")]
    public async Task AfterAMembershipChange_TheMembersSessions_AreLookedUpAgain(string method, string spelling)
    {
        await using var backend = await FakeSessionBackend.StartAsync();
        string org = Guid.NewGuid().ToString();
        var admin = TestSession.Create(orgs: (org, "admin"));
        var member = TestSession.Create(orgs: (org, "member"));
        foreach (var s in new[] { admin, member }) backend.Add(s);
        var memberId = Guid.Parse(member.UserId);
        string spelled = spelling switch { "upper" => memberId.ToString("D").ToUpperInvariant(), "N" => memberId.ToString("N"), _ => memberId.ToString("D") };
        string path = $"/orgs/{org}/members/{spelled}";
        backend.Proxied = async ctx =>
        {
            if (ctx.Request.Path != path) { await ctx.Response.WriteAsync("backend:" + ctx.Request.Path.Value); return; }
            await redis.Server.CliAsync("DEL", SessionRedisContract.SessionKey(member.Hex));
            ctx.Response.StatusCode = 204;
        };
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, redis.ConnectionString, RouteFiles.CreateTemp());
        Assert.Equal(HttpStatusCode.OK, (await gateway.Client.SendAsync(member.Get("/users/me/sessions"))).StatusCode);   // in L1
        int introspections = backend.IntrospectionsOf(member.Hex);

        var change = new HttpRequestMessage(new HttpMethod(method), path);
        change.Headers.TryAddWithoutValidation("Authorization", "Bearer " + admin.Token);
        change.Headers.TryAddWithoutValidation("X-Select-Org", org);
        if (method == "PATCH") change.Content = new StringContent("{\"role\":\"admin\"}", System.Text.Encoding.UTF8, "application/json");
        Assert.Equal(HttpStatusCode.NoContent, (await gateway.Client.SendAsync(change)).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await gateway.Client.SendAsync(member.Get("/users/me/sessions"))).StatusCode);
        Assert.Equal(introspections + 1, backend.IntrospectionsOf(member.Hex));
    }

    /// <summary>A gateway whose backend answers <c>POST /auth/logout</c> with <paramref name="logoutStatus"/> (revoking on a
    /// 2xx, without publishing), with one session already in L1.</summary>
    private async Task<Stack> StartAsync(int logoutStatus)
    {
        var backend = await FakeSessionBackend.StartAsync();
        var session = TestSession.Create();
        backend.Add(session);
        backend.Proxied = async ctx =>
        {
            if (ctx.Request.Path != "/auth/logout") { await ctx.Response.WriteAsync("backend:" + ctx.Request.Path.Value); return; }
            if (logoutStatus is >= 200 and < 300)
            {
                backend.Sessions.TryRemove(session.Hex, out _);
                await redis.Server.CliAsync("DEL", SessionRedisContract.SessionKey(session.Hex));
            }
            ctx.Response.StatusCode = logoutStatus;
        };
        var stack = new Stack(backend, session, await GatewayInstance.StartAsync(backend.BaseUrl, redis.ConnectionString, RouteFiles.CreateTemp()));
        Assert.Equal(HttpStatusCode.OK, await stack.GetAsync());   // the session is in L1 now
        return stack;
    }

    private sealed record Stack(FakeSessionBackend Backend, TestSession Session, GatewayInstance Gateway) : IAsyncDisposable
    {
        public async Task<HttpStatusCode> GetAsync() => (await Gateway.Client.SendAsync(Session.Get("/users/me/sessions"))).StatusCode;

        public async Task<HttpStatusCode> LogoutAsync()
        {
            var logout = new HttpRequestMessage(HttpMethod.Post, "/auth/logout");
            logout.Headers.TryAddWithoutValidation("Authorization", "Bearer " + Session.Token);
            return (await Gateway.Client.SendAsync(logout)).StatusCode;
        }

        public async ValueTask DisposeAsync()
        {
            await Gateway.DisposeAsync();
            await Backend.DisposeAsync();
        }
    }
}
