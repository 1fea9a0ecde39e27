using System.Net;
using System.Text.Json.Nodes;
using Gateway.Contracts;
using Gateway.Streams;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Http;
using TestInfrastructure;

namespace Gateway.Tests.Streams;

/// <summary>
/// Revalidation of open streams beyond "is the session still valid": a stream opened for an organisation is closed
/// when the session no longer grants the class's role there, with no invalidation message (as when it was lost).
/// </summary>
public sealed class StreamRevalidationTests(RedisFixture redis)
{
    [Fact]
    public async Task StreamOfARoleClass_IsClosedOnRevalidation_WhenTheRoleWasLowered_AndAnotherSessionsStreamStays()
    {
        await using var backend = await FakeSessionBackend.StartAsync();
        backend.Proxied = async ctx =>
        {
            ctx.Response.ContentType = "text/event-stream";
            await ctx.Response.WriteAsync("data: open\n\n");
            await ctx.Response.Body.FlushAsync();
            try { await Task.Delay(Timeout.Infinite, ctx.RequestAborted); }
            catch (OperationCanceledException) { }
        };
        string org = Guid.NewGuid().ToString();
        var demoted = TestSession.Create(orgs: (org, "admin"));
        var kept = TestSession.Create(orgs: (org, "admin"));
        backend.Add(demoted);
        backend.Add(kept);
        string routes = RouteFiles.CreateTemp(j =>
        {
            j["classes"]!["admin-live"] = new JsonObject { ["tier"] = "standard", ["budgetMs"] = 50, ["auth"] = "role:admin", ["timeoutMs"] = 1000 };
            RouteFiles.AddRoute(j, "live", "/live/{**rest}", "admin-live");
        });
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, redis.ConnectionString, routes, null,
            "--Sessions:L1Ttl=00:00:00.500", "--Streams:RevalidateInterval=00:00:00.200");

        using var demotedStream = await OpenAsync(gateway, demoted, org);
        using var keptStream = await OpenAsync(gateway, kept, org);
        Assert.Equal("open", await StreamsStack.ReadEventAsync(demotedStream.Reader));
        Assert.Equal("open", await StreamsStack.ReadEventAsync(keptStream.Reader));
        Assert.Equal(2, gateway.Get<StreamRegistry>().Count);

        // Demoted to member behind the gateway's back: the backend answers the new principal, Redis no longer holds the old.
        backend.Sessions[demoted.Hex] = TestSession.Create(userId: demoted.UserId, orgs: (org, "member")).Json;
        await redis.Server.CliAsync("DEL", SessionRedisContract.SessionKey(demoted.Hex));

        Assert.Null(await StreamsStack.ReadEventAsync(demotedStream.Reader, TimeSpan.FromSeconds(20)));
        await Poll.UntilAsync(() => gateway.Get<StreamRegistry>().Count == 1, "only the demoted session's stream was closed");
        Assert.Null(gateway.Get<StreamRegistry>().Snapshot().Single().ClosedBecause);

        // The stream's opening was the user's activity; its revalidations are not (the backend slides no idle expiry
        // for them, or an open stream in an unattended tab would keep its session alive).
        var asked = backend.Recording.Requests.Where(r => r.Path == "/internal/sessions/introspect"
            && System.Text.Json.JsonDocument.Parse(r.Body).RootElement.GetProperty("tokenHash").GetString() == demoted.Hex)
            .Select(r => System.Text.Json.JsonDocument.Parse(r.Body).RootElement.TryGetProperty("touch", out var t) ? t.GetBoolean() : true).ToList();
        Assert.True(asked[0], "the opening's introspection counts as activity");
        Assert.Contains(false, asked.Skip(1));
        Assert.DoesNotContain(true, asked.Skip(1));
    }

    private static async Task<OpenEvents> OpenAsync(GatewayInstance gateway, TestSession session, string org)
    {
        var request = session.Get("/live/feed");
        request.Headers.TryAddWithoutValidation("Accept", "text/event-stream");
        request.Headers.TryAddWithoutValidation("X-Select-Org", org);
        var response = await gateway.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return new OpenEvents(response, new StreamReader(await response.Content.ReadAsStreamAsync()));
    }

    private sealed record OpenEvents(HttpResponseMessage Response, StreamReader Reader) : IDisposable
    {
        public void Dispose()
        {
            Reader.Dispose();
            Response.Dispose();
        }
    }
}
