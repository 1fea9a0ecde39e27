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
