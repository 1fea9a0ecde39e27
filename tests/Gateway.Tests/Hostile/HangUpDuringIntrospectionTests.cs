using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Observability;
using Gateway.Tests.Support;
using Microsoft.Extensions.Logging;
using TestInfrastructure;

namespace Gateway.Tests.Hostile;

/// <summary>
/// A request waiting for its token's introspection stops waiting when its client hangs up. Clients hang up for free,
/// so that must cost the log nothing above Debug: no unhandled-exception Error with a stack trace per request.
/// </summary>
public sealed class HangUpDuringIntrospectionTests(RedisFixture redis)
{
    [Fact]
    public async Task ClientsHangingUpWhileTheirTokenIsIntrospected_LeaveNoWarningOrErrorInTheLog()
    {
        await using var backend = await FakeSessionBackend.StartAsync();
        backend.IntrospectionDelay = TimeSpan.FromSeconds(3);
        string routes = RouteFiles.CreateTemp(j =>
        {
            j["classes"]!["patient-session"] = new JsonObject { ["tier"] = "standard", ["budgetMs"] = 10000, ["auth"] = "session", ["timeoutMs"] = 10000 };
            RouteFiles.AddRoute(j, "slow", "/slow/{**rest}", "patient-session");
        });
        var capture = new CapturingLoggerProvider();
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, redis.ConnectionString, routes, b => b.Logging.AddProvider(capture));

        for (int i = 0; i < 10; i++)
        {
            // Hang up once the gateway is waiting on the introspection: a fixed 200 ms could end a request the gateway
            // had not received yet on a loaded machine, and it then counted nine.
            int before = backend.IntrospectionCount;
            using var hangUp = new CancellationTokenSource();
            var send = gateway.Client.SendAsync(TestSession.Create().Get("/slow/thing"), hangUp.Token);
            await Poll.UntilAsync(() => backend.IntrospectionCount > before, "the gateway introspects the token");
            hangUp.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => send);
        }

        // Errors, or anything above Debug carrying an exception (a stack trace per hang-up). A loaded machine may log
        // Kestrel's heartbeat warning meanwhile: not about these requests.
        // Counted as 499 (client closed request, a 4xx), not as the 200 the response held when the wait ended.
        string metrics = "";
        await Poll.UntilAsync(async () => (metrics = await gateway.AdminClient.GetStringAsync("/metrics"))
            .Contains("gateway_request_duration_seconds_count{tier=\"standard\",route_class=\"patient-session\",status_class=\"4xx\"} 10"),
            "the ten hang-ups are counted as 4xx");
        Assert.DoesNotContain("route_class=\"patient-session\",status_class=\"2xx\"", metrics);

        var loud = capture.Entries.Where(e => e.Level >= LogLevel.Error || (e.Level > LogLevel.Debug && e.Exception is not null)).ToList();
        Assert.True(loud.Count == 0, string.Join("\n", loud.Select(e => $"{e.Level} {e.Category} {e.EventId.Name} {e.Message}\n{e.Exception}")));
    }
}
