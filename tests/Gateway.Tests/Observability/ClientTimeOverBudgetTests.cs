using System.Net.Sockets;
using System.Text;
using Gateway.Tests.Hostile;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using TestInfrastructure;

namespace Gateway.Tests.Observability;

/// <summary>
/// A request's time spent on its client (a stalled upload, an upload reset half-way) is not the gateway missing its
/// budget: it is neither counted in <c>gateway_request_over_budget_total</c> nor logged as <c>RequestOverBudget</c>,
/// so one client cannot raise its tier's over-budget rate nor use up the tier's Warning allowance. A request the
/// backend made slow still is, after those clients.
/// </summary>
public sealed class ClientTimeOverBudgetTests
{
    private const string Routes = """
        { "version": "client-time", "defaultClass": "open",
          "classes": { "open": { "tier": "standard", "budgetMs": 50, "auth": "anonymous", "timeoutMs": 600 } },
          "routes": { "all": { "path": "/a/{**rest}", "class": "open", "cluster": "backend" } },
          "clusters": { "backend": { "address": "" } } }
        """;

    /// <summary>A POST whose first 10 bytes of body follow the headers: the whole body when the length is 10.</summary>
    private static byte[] UploadStart(int contentLength, string path = "/a/upload") =>
        Encoding.ASCII.GetBytes($"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: {contentLength}\r\n\r\n0123456789");

    [Fact]
    public async Task StalledAndResetUploads_AreNotOverBudget_ABackendsSlowAnswerStillIs()
    {
        await using var backend = await RecordingBackend.StartAsync();
        backend.Handler = async ctx =>
        {
            if (ctx.Request.Path.Value!.EndsWith("/slow", StringComparison.Ordinal)) await Task.Delay(300, ctx.RequestAborted);
            await ctx.Response.WriteAsync("ok");
        };
        var logs = new CapturingLoggerProvider();
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, HostileGateway.NoRedis, RouteFiles.WriteTemp(Routes),
            b => b.Logging.AddProvider(logs),
            // The edge's own slow-body check later than the class's timeout, so the class's deadline ends the stalls.
            "--Kestrel:Limits:MinRequestBodyDataRate:GracePeriod=00:00:30",
            // Allowance enough for every request here: a miscount would show as a Warning, not be throttled away.
            "--Observability:OverBudgetLogsPerWindow=20");
        int port = new Uri(gateway.BaseUrl).Port;

        // Three uploads that stop after 10 of 200 bytes: 408 at the class's deadline, 600 ms, twelve times the budget.
        for (int i = 0; i < 3; i++)
        {
            var stalled = await RawHttp.SendAsync(port, UploadStart(200), TimeSpan.FromSeconds(10));
            Assert.True(stalled.Status == 408, stalled.Text);
        }
        // Three uploads reset by their client after 200 ms, four times the budget, with 190 bytes still to come.
        for (int i = 0; i < 3; i++)
        {
            using var client = new TcpClient { NoDelay = true };
            await client.ConnectAsync("127.0.0.1", port);
            await client.GetStream().WriteAsync(UploadStart(200));
            await Task.Delay(200);
            client.Client.LingerState = new LingerOption(true, 0);   // close with RST: a reset, not a clean end
            client.Close();
        }
        // Every one of them finished in the gateway (the duration histogram counts them, under their status).
        await Poll.UntilAsync(async () => RequestsCounted(await Metrics(gateway)) >= 6, "the six client-ended requests are counted");

        // Over budget because of the backend: a slow answer, and a client that sent its whole body, then gave up
        // waiting for that answer (YARP reports it as the client's cancellation, like some resets mid-upload).
        var slow = await gateway.Client.GetAsync("/a/slow");
        Assert.Equal(200, (int)slow.StatusCode);
        using (var client = new TcpClient { NoDelay = true })
        {
            await client.ConnectAsync("127.0.0.1", port);
            await client.GetStream().WriteAsync(UploadStart(10, "/a/slow"));
            await Task.Delay(150);
            client.Client.LingerState = new LingerOption(true, 0);
            client.Close();
        }
        await Poll.UntilAsync(async () => OverBudget(await Metrics(gateway)) >= 2, "the two requests the backend made slow are over budget");
        await Poll.UntilAsync(() => Task.FromResult(logs.Entries.Count(e => e.EventId.Name == "RequestOverBudget") >= 2), "both are logged");

        Assert.Equal(2, OverBudget(await Metrics(gateway)));
        var overBudget = logs.Entries.Where(e => e.EventId.Name == "RequestOverBudget").ToList();
        Assert.Equal(2, overBudget.Count);
        Assert.All(overBudget, e => Assert.Contains("longest stage proxy", e.Message));
        Assert.Equal(2, backend.Requests.Count(r => r.Path.EndsWith("/slow", StringComparison.Ordinal)));
    }

    private static Task<string> Metrics(GatewayInstance gateway) => gateway.AdminClient.GetStringAsync("/metrics");

    private static long OverBudget(string metrics) => Counter(metrics, "gateway_request_over_budget_total{tier=\"standard\",route_class=\"open\"");

    private static long RequestsCounted(string metrics) => Counter(metrics, "gateway_request_duration_seconds_count{tier=\"standard\",route_class=\"open\"");

    /// <summary>The sum of the series that start with <paramref name="prefix"/> (0 when there are none).</summary>
    private static long Counter(string metrics, string prefix) => metrics.Split('\n')
        .Where(l => l.StartsWith(prefix, StringComparison.Ordinal))
        .Sum(l => long.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
}
