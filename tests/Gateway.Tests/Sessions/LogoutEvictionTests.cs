using System.Net;
using Gateway.Contracts;
using Microsoft.AspNetCore.Http;
using Gateway.Tests.Support;
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
        await using var backend = await FakeSessionBackend.StartAsync();
        var session = TestSession.Create();
        backend.Add(session);
        backend.Proxied = async ctx =>
        {
            if (ctx.Request.Path == "/auth/logout")
            {
                backend.Sessions.TryRemove(session.Hex, out _);
                await redis.Server.CliAsync("DEL", SessionRedisContract.SessionKey(session.Hex));
                ctx.Response.StatusCode = 204;
                return;
            }
            await ctx.Response.WriteAsync("backend:" + ctx.Request.Path.Value);
        };
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, redis.ConnectionString, RouteFiles.CreateTemp());

        Assert.Equal(HttpStatusCode.OK, (await gateway.Client.SendAsync(session.Get("/users/me/sessions"))).StatusCode);   // in L1 now
        var logout = new HttpRequestMessage(HttpMethod.Post, "/auth/logout");
        logout.Headers.TryAddWithoutValidation("Authorization", "Bearer " + session.Token);
        Assert.Equal(HttpStatusCode.NoContent, (await gateway.Client.SendAsync(logout)).StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, (await gateway.Client.SendAsync(session.Get("/users/me/sessions"))).StatusCode);
    }

    [Fact]
    public async Task ALogoutTheBackendRefused_EvictsNothing()
    {
        await using var backend = await FakeSessionBackend.StartAsync();
        var session = TestSession.Create();
        backend.Add(session);
        backend.Proxied = async ctx =>
        {
            if (ctx.Request.Path == "/auth/logout") { ctx.Response.StatusCode = 503; return; }   // revocation pending
            await ctx.Response.WriteAsync("backend:" + ctx.Request.Path.Value);
        };
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, redis.ConnectionString, RouteFiles.CreateTemp());

        Assert.Equal(HttpStatusCode.OK, (await gateway.Client.SendAsync(session.Get("/users/me/sessions"))).StatusCode);
        int introspections = backend.IntrospectionsOf(session.Hex);
        var logout = new HttpRequestMessage(HttpMethod.Post, "/auth/logout");
        logout.Headers.TryAddWithoutValidation("Authorization", "Bearer " + session.Token);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await gateway.Client.SendAsync(logout)).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await gateway.Client.SendAsync(session.Get("/users/me/sessions"))).StatusCode);
        Assert.Equal(introspections, backend.IntrospectionsOf(session.Hex));   // still from L1
    }
}
