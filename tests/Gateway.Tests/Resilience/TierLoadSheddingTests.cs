using System.Net;
using Gateway.Resilience;
using Gateway.Tests.PolicyTesting;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Resilience;

public sealed class TierLoadSheddingTests
{
    [Fact]
    public async Task SaturatedStandardTier_ShedsStandardAt503_WhileCriticalAuthAndHealthStillAnswer()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int entered = 0;
        await using var host = await PolicyTestHost.StartAsync(
            s => s.AddGatewayResilience(configureShedding: o =>
            {
                o.MaxConcurrency["standard"] = 2;
                o.MaxConcurrency["critical-auth"] = 2;
            }),
            app => app.UseRequestAdmission(),
            async ctx =>
            {
                if (ctx.Request.Path == "/slow")
                {
                    Interlocked.Increment(ref entered);
                    await release.Task;
                }
                await ctx.Response.WriteAsync("done");
            });

        var slow = new[]
        {
            host.Client.SendAsync(PolicyTestHost.Get("/slow", tier: "standard")),
            host.Client.SendAsync(PolicyTestHost.Get("/slow", tier: "standard")),
        };
        await Poll.UntilAsync(() => Volatile.Read(ref entered) == 2, "both slow standard requests are in flight");

        using (var shed = await host.Client.SendAsync(PolicyTestHost.Get("/fast", tier: "standard")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, shed.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(1), shed.Headers.RetryAfter!.Delta);
        }
        using (var critical = await host.Client.SendAsync(PolicyTestHost.Get("/fast", tier: "critical-auth")))
            Assert.Equal(HttpStatusCode.OK, critical.StatusCode);
        using (var ultra = await host.Client.SendAsync(PolicyTestHost.Get("/fast", tier: "ultra-fast")))
            Assert.Equal(HttpStatusCode.OK, ultra.StatusCode);
        using (var health = await host.Client.GetAsync("/health"))
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);

        release.SetResult();
        foreach (var r in await Task.WhenAll(slow)) { Assert.Equal(HttpStatusCode.OK, r.StatusCode); r.Dispose(); }
        using var after = await host.Client.SendAsync(PolicyTestHost.Get("/fast", tier: "standard"));
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }
}
