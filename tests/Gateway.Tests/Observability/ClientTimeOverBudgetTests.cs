using System.Net.Sockets;
using System.Text;
using Gateway.Tests.Hostile;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using TestInfrastructure;

namespace Gateway.Tests.Observability;

/// <summary>
/// A request's time spent on its client's body (an upload stalled to 408, an upload the client reset half-way) is not
/// the gateway missing its budget: it is neither counted in <c>gateway_request_over_budget_total</c> nor logged as
/// <c>RequestOverBudget</c>, so one client cannot raise its tier's over-budget rate nor use up the tier's Warning
/// allowance. A request the backend made slow still is, also when its client gave up waiting after sending its body.
/// </summary>
public sealed class ClientTimeOverBudgetTests
{
    private const string Routes = """
        { "version": "client-time", "defaultClass": "open",
          "classes": { "open": { "tier": "standard", "budgetMs": 50, "auth": "anonymous", "timeoutMs": 600 } },
          "routes": { "all": { "path": "/a/{**rest}", "class": "open", "cluster": "backend" } },
          "clusters": { "backend": { "address": "" } } }
        """;
    private const string Series = "{tier=\"standard\",route_class=\"open\"";

    /// <summary>A POST whose first 10 bytes of body follow the headers: the whole body when the length is 10.</summary>
    private static byte[] UploadStart(int contentLength, string path = "/a/upload") =>
        Encoding.ASCII.GetBytes($"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: {contentLength}\r\n\r\n0123456789");

    private static async Task ResetAsync(int port, byte[] request, Func<Task> before)
    {
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync("127.0.0.1", port);
        await client.GetStream().WriteAsync(request);
        await before();
        client.Client.LingerState = new LingerOption(true, 0);   // close with RST: a reset, not a clean end
        client.Close();
    }

    [Fact]
    public async Task StalledAndResetUploads_AreNotOverBudget_ABackendsSlowAnswerStillIs()
    {
        var slowArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var backend = await RecordingBackend.StartAsync();
        backend.Handler = async ctx =>
        {
            if (ctx.Request.Path.Value!.EndsWith("/slow", StringComparison.Ordinal))
            {
                if (HttpMethods.IsPost(ctx.Request.Method)) slowArrived.TrySetResult();   // the whole body was read
                await Task.Delay(300, ctx.RequestAborted);
            }
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
        for (int i = 0; i < 3; i++) await ResetAsync(port, UploadStart(200), () => Task.Delay(200));
        await Poll.UntilAsync(async () => Counter(await Metrics(gateway), "gateway_request_duration_seconds_count" + Series) >= 6,
            "the six client-ended requests are counted in the duration histogram");

        // Over budget because of the backend: a slow answer, and a client that sent its whole body, then gave up waiting.
        Assert.Equal(200, (int)(await gateway.Client.GetAsync("/a/slow")).StatusCode);
        await ResetAsync(port, UploadStart(10, "/a/slow"), async () =>
        {
            await slowArrived.Task.WaitAsync(TimeSpan.FromSeconds(10));
            await Task.Delay(100);   // two budgets more, while the backend takes its 300 ms
        });
        await Poll.UntilAsync(async () => Counter(await Metrics(gateway), "gateway_request_duration_seconds_count" + Series) >= 8,
            "the two slow requests are counted in the duration histogram");

        // YARP reports an upload reset mid-body as RequestBodyClient/RequestBodyCanceled, or, when the client's
        // cancellation reaches the backend call first, as RequestCanceled, which is also what a client that gave up on
        // the backend gets. The gateway cannot tell those apart, so it counts RequestCanceled: the abandoned slow POST,
        // and any reset YARP happened to report that way. Every other client-ended upload is not over budget.
        string metrics = await Metrics(gateway);
        long canceled = Counter(metrics, "gateway_proxy_errors_total{cluster=\"backend\",error=\"RequestCanceled\"");
        Assert.InRange(canceled, 1, 4);
        long expected = 1 + canceled;   // the slow GET and every RequestCanceled
        // The counter follows the histogram within the same call: wait for it to reach the count, then it must stop there.
        await Poll.UntilAsync(async () => Counter(await Metrics(gateway), "gateway_request_over_budget_total" + Series) >= expected, "the over-budget count");
        Assert.Equal(expected, Counter(await Metrics(gateway), "gateway_request_over_budget_total" + Series));
        await Poll.UntilAsync(() => Task.FromResult(logs.Entries.Count(e => e.EventId.Name == "RequestOverBudget") >= expected), "each is logged");
        var overBudget = logs.Entries.Where(e => e.EventId.Name == "RequestOverBudget").ToList();
        Assert.Equal(expected, overBudget.Count);
        Assert.All(overBudget, e => Assert.Contains("longest stage proxy", e.Message));
    }

    private static Task<string> Metrics(GatewayInstance gateway) => gateway.AdminClient.GetStringAsync("/metrics");

    /// <summary>The sum of the series whose line starts with <paramref name="prefix"/> (0 when there are none).</summary>
    private static long Counter(string metrics, string prefix) => metrics.Split('\n')
        .Where(l => l.StartsWith(prefix, StringComparison.Ordinal))
        .Sum(l => long.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
}
