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

    [Fact]
    public void AnIpv6Client_HoldsOneShare_WhicheverAddressOfItsSlash64ItSendsFrom()
    {
        // Per address, a client with a /64 would land on every stripe and take the whole tier's share of slots.
        var resolver = new Gateway.RateLimiting.ClientIpResolver(new Gateway.RateLimiting.TrustedProxies(
            Microsoft.Extensions.Options.Options.Create(new Gateway.RateLimiting.RateLimitingOptions())));
        var shedder = new TierLoadShedder(Microsoft.Extensions.Options.Options.Create(new TierLoadSheddingOptions()), clientIp: resolver);
        int StripeFrom(string address)
        {
            var context = new DefaultHttpContext();
            context.Connection.RemoteIpAddress = IPAddress.Parse(address);
            return shedder.StripeOf(context);
        }
        var stripes = Enumerable.Range(1, 200).Select(i => StripeFrom($"2001:db8:5:6:{i:x}::{i:x}")).Distinct().ToList();
        Assert.Single(stripes);
        var neighbours = Enumerable.Range(1, 200).Select(i => StripeFrom($"2001:db8:5:{i:x}::1")).Distinct().Count();
        Assert.True(neighbours > 1, "other /64s are other clients, spread over the stripes");
    }

    [Fact]
    public void ABusyTier_RefusesAClientHoldingItsShare_AndStillAdmitsTheOthers()
    {
        // Limit 64: half full at 33 in flight, a client's share 16. Found by an adversarial review: one user's stalled
        // uploads filled critical-auth and every other client's login got 503.
        var slot = new TierSlot("critical-auth", 64);
        const int hog = 7;   // stripes, not addresses: an address's stripe follows the process's hash seed
        for (int i = 0; i < 32; i++) Assert.Equal(TierSlot.Admission.Admitted, slot.TryEnter(hog));   // nobody else needs them yet
        Assert.Equal(TierSlot.Admission.ClientOverShare, slot.TryEnter(hog));
        Assert.Equal(32, slot.InFlight);   // a refusal takes nothing

        int others = 0;
        for (int c = 100; slot.TryEnter(c) == TierSlot.Admission.Admitted; c++) others++;
        Assert.Equal(32, others);   // the rest of the tier went to other clients, up to its limit
        Assert.Equal(TierSlot.Admission.TierFull, slot.TryEnter(500));
        Assert.InRange(TierSlot.StripeOf(System.Net.IPAddress.Parse("198.51.100.1")), 0, TierSlot.ClientStripes - 1);

        for (int i = 0; i < 32; i++) slot.Exit(hog);
        Assert.Equal(TierSlot.Admission.Admitted, slot.TryEnter(hog));
    }

    [Fact]
    public void OneClient_MayUseTheWholeTier_WhileNobodyElseNeedsIt_BelowHalf()
    {
        // A small tier (share at least 16) or a benchmark from one address: below half full nothing is refused for being
        // one client, so the tier's own limit is what a lone client meets.
        var small = new TierSlot("standard", 2);
        Assert.Equal(TierSlot.Admission.Admitted, small.TryEnter(0));
        Assert.Equal(TierSlot.Admission.Admitted, small.TryEnter(0));
        Assert.Equal(TierSlot.Admission.TierFull, small.TryEnter(0));
    }

    [Fact]
    public async Task AClientOverItsShare_Gets429TooManyInFlight_WithRetryAfter()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int entered = 0;
        await using var host = await PolicyTestHost.StartAsync(
            s => s.AddGatewayResilience(configureShedding: o => o.MaxConcurrency["standard"] = 64),
            app => app.UseRequestAdmission(),
            async ctx =>
            {
                if (ctx.Request.Path == "/slow") { Interlocked.Increment(ref entered); await release.Task; }
                await ctx.Response.WriteAsync("done");
            });

        var slow = Enumerable.Range(0, 32).Select(_ => host.Client.SendAsync(PolicyTestHost.Get("/slow", tier: "standard"))).ToArray();
        await Poll.UntilAsync(() => Volatile.Read(ref entered) == 32, "32 slow requests of one client are in flight");

        using (var refused = await host.Client.SendAsync(PolicyTestHost.Get("/fast", tier: "standard")))
        {
            Assert.Equal((HttpStatusCode)429, refused.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter!.Delta);
            Assert.Contains("https://gateway.dev/problems/too-many-in-flight", await refused.Content.ReadAsStringAsync());
        }
        release.SetResult();
        foreach (var r in await Task.WhenAll(slow)) { Assert.Equal(HttpStatusCode.OK, r.StatusCode); r.Dispose(); }
        using var after = await host.Client.SendAsync(PolicyTestHost.Get("/fast", tier: "standard"));
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }
}
