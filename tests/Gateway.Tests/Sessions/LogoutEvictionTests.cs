using System.Net;
using Gateway.Contracts;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Http;
using TestInfrastructure;

namespace Gateway.Tests.Sessions;

/// <summary>The token a client just logged out with is refused by the instance that carried the logout, at once.</summary>
public sealed class LogoutEvictionTests(RedisFixture redis)
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
    /// A logout-all revokes every session of the user: the instance that carried it refuses the user's other sessions at
    /// once too. Until 2026-12-05 it evicted only the session that sent it, and served the others from L1 until the
    /// invalidation message came (this backend never publishes it).
    /// </summary>
    [Fact]
    public async Task AfterALogoutAll_TheUsersOtherSession_IsRefusedAtOnce()
    {
        await using var backend = await FakeSessionBackend.StartAsync();
        string userId = Guid.NewGuid().ToString();
        var current = TestSession.Create(userId: userId);
        var other = TestSession.Create(userId: userId);
        var stranger = TestSession.Create();
        foreach (var s in new[] { current, other, stranger }) backend.Add(s);
        backend.Proxied = async ctx =>
        {
            if (ctx.Request.Path != "/auth/logout-all") { await ctx.Response.WriteAsync("backend:" + ctx.Request.Path.Value); return; }
            foreach (var s in new[] { current, other })
            {
                backend.Sessions.TryRemove(s.Hex, out _);
                await redis.Server.CliAsync("DEL", SessionRedisContract.SessionKey(s.Hex));
            }
            ctx.Response.StatusCode = 204;
        };
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, redis.ConnectionString, RouteFiles.CreateTemp());
        async Task<HttpStatusCode> GetAsync(TestSession s) => (await gateway.Client.SendAsync(s.Get("/users/me/sessions"))).StatusCode;
        foreach (var s in new[] { other, stranger }) Assert.Equal(HttpStatusCode.OK, await GetAsync(s));   // in L1 now
        int strangerIntrospections = backend.IntrospectionsOf(stranger.Hex);

        var logoutAll = new HttpRequestMessage(HttpMethod.Post, "/auth/logout-all");
        logoutAll.Headers.TryAddWithoutValidation("Authorization", "Bearer " + current.Token);
        Assert.Equal(HttpStatusCode.NoContent, (await gateway.Client.SendAsync(logoutAll)).StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync(other));
        Assert.Equal(HttpStatusCode.OK, await GetAsync(stranger));
        Assert.Equal(strangerIntrospections, backend.IntrospectionsOf(stranger.Hex));   // another user's: still from L1
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
