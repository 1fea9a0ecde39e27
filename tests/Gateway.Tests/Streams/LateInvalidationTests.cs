using System.Net;
using System.Text.Json.Nodes;
using Gateway.Contracts;
using Gateway.RateLimiting;
using Gateway.Sessions;
using Gateway.Streams;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using TestInfrastructure;

namespace Gateway.Tests.Streams;

/// <summary>
/// An invalidation handled after a stream's session was validated but before the stream was registered found nothing to
/// close. Before the fix, such a stream stayed open until the next revalidation (<c>Streams:RevalidateInterval</c>,
/// ten minutes here). The invalidation is handled from the stage between the two (the rate-limit rule lookup),
/// which is the race's window held open.
/// </summary>
public sealed class LateInvalidationTests(RedisFixture redis)
{
    public enum Change { Logout, LogoutEverywhere, LeftTheOrganisation, DemotedButStillAdmitted, SomeoneElsesLogout }

    [Theory]
    [InlineData(Change.Logout, HttpStatusCode.Unauthorized)]
    [InlineData(Change.LogoutEverywhere, HttpStatusCode.Unauthorized)]
    [InlineData(Change.LeftTheOrganisation, HttpStatusCode.Forbidden)]
    [InlineData(Change.DemotedButStillAdmitted, HttpStatusCode.OK)]
    [InlineData(Change.SomeoneElsesLogout, HttpStatusCode.OK)]
    public async Task AStreamWhoseSessionWasInvalidatedBeforeItWasRegistered_IsRefused(Change change, HttpStatusCode expected)
    {
        await using var backend = await StreamingBackendAsync();
        string org = Guid.NewGuid().ToString();
        var session = TestSession.Create(orgs: (org, change == Change.DemotedButStillAdmitted ? "admin" : "member"));
        var other = TestSession.Create(orgs: (org, "member"));
        backend.Add(session);
        backend.Add(other);
        string routes = LiveRoutes();

        GatewayInstance? gateway = null;
        int interposed = 0;
        void Invalidate(HttpContext context)
        {
            if (context.Request.Headers.Accept != "text/event-stream" || Interlocked.Exchange(ref interposed, 1) == 1) return;
            // What the backend does, in its order: Redis and its own store first, then the message.
            var (revoked, message) = change switch
            {
                Change.Logout => (session, new InvalidationMessage(InvalidationMessage.KindSession, "logout", 0, session.Hex, session.UserId)),
                Change.LogoutEverywhere => (session, new InvalidationMessage(InvalidationMessage.KindUser, "logout-all", 0, UserId: session.UserId)),
                Change.LeftTheOrganisation or Change.DemotedButStillAdmitted =>
                    (session, new InvalidationMessage(InvalidationMessage.KindUser, "membership", 0, UserId: session.UserId)),
                _ => (other, new InvalidationMessage(InvalidationMessage.KindSession, "logout", 0, other.Hex, other.UserId)),
            };
            if (change == Change.LeftTheOrganisation)
                backend.Sessions[session.Hex] = TestSession.Create(userId: session.UserId, version: 1).Json;
            else if (change == Change.DemotedButStillAdmitted)
                backend.Sessions[session.Hex] = TestSession.Create(userId: session.UserId, version: 1, orgs: (org, "member")).Json;
            else backend.Sessions.TryRemove(revoked.Hex, out string? _);
            redis.Server.CliAsync("DEL", SessionRedisContract.SessionKey(revoked.Hex)).GetAwaiter().GetResult();
            gateway!.Get<InvalidationSubscriber>().Handle(message.Serialize());
        }
        gateway = await GatewayInstance.StartAsync(backend.BaseUrl, redis.ConnectionString, routes,
            b => b.Services.AddSingleton<IRateLimitRuleResolver>(new InterposingResolver(Invalidate)),
            "--Streams:RevalidateInterval=00:10:00");
        await using var started = gateway;

        // The session is in L1 (and Redis) before the stream opens, as for a client that has been using it.
        var warm = session.Get("/live/page");
        warm.Headers.TryAddWithoutValidation("X-Select-Org", org);
        Assert.Equal(HttpStatusCode.OK, (await gateway.Client.SendAsync(warm)).StatusCode);

        var open = session.Get("/live/feed");
        open.Headers.TryAddWithoutValidation("Accept", "text/event-stream");
        open.Headers.TryAddWithoutValidation("X-Select-Org", org);
        using var response = await gateway.Client.SendAsync(open, HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal(1, interposed);
        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.OK)
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            Assert.Equal("open", await StreamsStack.ReadEventAsync(reader));
            Assert.Equal(1, gateway.Get<StreamRegistry>().Count);
            // The upstream is told the role the session has now, not the one it had when the stream began to open.
            var proxied = Assert.Single(backend.ProxiedTo("/live/feed"));
            Assert.Equal("member", proxied.Headers.Single(h => h.Key.Equals("X-Org-Role", StringComparison.OrdinalIgnoreCase)).Value);
        }
        else
        {
            Assert.Empty(backend.ProxiedTo("/live/feed"));
            await Poll.UntilAsync(() => gateway.Get<StreamRegistry>().Count == 0, "the refused stream is not left registered");
        }
    }

    public enum Ending { ClassDeadline, ClientLeaves }

    /// <summary>
    /// The revalidation a late invalidation calls for may have to ask the backend, and the backend may be slow. The
    /// opening is still an ordinary request: its class's deadline (504) and its client's leaving end the wait, as they end
    /// the validation stage's. Before the fix nothing did but the introspection timeout (a minute here): the stream held
    /// its registration, its user's and address's counts and its tier's slot until then.
    /// </summary>
    [Theory]
    [InlineData(Ending.ClassDeadline)]
    [InlineData(Ending.ClientLeaves)]
    public async Task ARevalidationTheBackendIsSlowToAnswer_StopsWaitingWithItsRequest(Ending ending)
    {
        await using var backend = await StreamingBackendAsync();
        string org = Guid.NewGuid().ToString();
        var session = TestSession.Create(orgs: (org, "member"));
        backend.Add(session);
        var answerHeld = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        GatewayInstance? gateway = null;
        int interposed = 0;
        void Invalidate(HttpContext context)
        {
            if (context.Request.Headers.Accept != "text/event-stream" || Interlocked.Exchange(ref interposed, 1) == 1) return;
            // A membership change: the session stays, so the revalidation's answer is the backend's, and it is held.
            backend.BeforeIntrospectionAnswer = async _ => { answerHeld.TrySetResult(); await released.Task; };
            redis.Server.CliAsync("DEL", SessionRedisContract.SessionKey(session.Hex)).GetAwaiter().GetResult();
            gateway!.Get<InvalidationSubscriber>().Handle(
                new InvalidationMessage(InvalidationMessage.KindUser, "membership", 0, UserId: session.UserId).Serialize());
        }
        // Leaving is tested with a deadline the test cannot reach, so it is the leaving that ends the wait.
        string routes = LiveRoutes(timeoutMs: ending == Ending.ClassDeadline ? 1000 : 30_000);
        gateway = await GatewayInstance.StartAsync(backend.BaseUrl, redis.ConnectionString, routes,
            b => b.Services.AddSingleton<IRateLimitRuleResolver>(new InterposingResolver(Invalidate)),
            "--Streams:RevalidateInterval=00:10:00", "--Sessions:IntrospectionTimeout=00:01:00");
        await using var started = gateway;
        try
        {
            var warm = session.Get("/live/page");
            warm.Headers.TryAddWithoutValidation("X-Select-Org", org);
            Assert.Equal(HttpStatusCode.OK, (await gateway.Client.SendAsync(warm)).StatusCode);

            var open = session.Get("/live/feed");
            open.Headers.TryAddWithoutValidation("Accept", "text/event-stream");
            open.Headers.TryAddWithoutValidation("X-Select-Org", org);
            using var leave = new CancellationTokenSource();
            var opening = gateway.Client.SendAsync(open, HttpCompletionOption.ResponseHeadersRead, leave.Token);
            await answerHeld.Task.WaitAsync(TimeSpan.FromSeconds(30));
            if (ending == Ending.ClassDeadline)
            {
                using var response = await opening;   // the class's timeoutMs is 1000; the answer stays held
                Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
                Assert.Equal("member-live", response.Headers.GetValues("X-Route-Class").Single());
            }
            else
            {
                leave.Cancel();
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => opening);
            }
            await Poll.UntilAsync(() => gateway.Get<StreamRegistry>().Count == 0, "the opening is no longer registered while the answer is held");
            Assert.False(released.Task.IsCompleted);
            Assert.Empty(backend.ProxiedTo("/live/feed"));
        }
        finally
        {
            released.TrySetResult();
        }
    }

    private static async Task<FakeSessionBackend> StreamingBackendAsync()
    {
        var backend = await FakeSessionBackend.StartAsync();
        backend.Proxied = async ctx =>
        {
            if (ctx.Request.Path != "/live/feed") { await ctx.Response.WriteAsync("page"); return; }
            ctx.Response.ContentType = "text/event-stream";
            await ctx.Response.WriteAsync("data: open\n\n");
            await ctx.Response.Body.FlushAsync();
            try { await Task.Delay(Timeout.Infinite, ctx.RequestAborted); }
            catch (OperationCanceledException) { }
        };
        return backend;
    }

    private static string LiveRoutes(int timeoutMs = 1000) => RouteFiles.CreateTemp(j =>
    {
        j["classes"]!["member-live"] = new JsonObject { ["tier"] = "standard", ["budgetMs"] = 50, ["auth"] = "role:member", ["timeoutMs"] = timeoutMs };
        RouteFiles.AddRoute(j, "live", "/live/{**rest}", "member-live");
    });

    private sealed class InterposingResolver(Action<HttpContext> before) : IRateLimitRuleResolver
    {
        public RateLimitRule? Resolve(HttpContext context)
        {
            before(context);
            return null;
        }
    }
}
