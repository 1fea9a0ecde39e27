using Gateway.Pipeline;
using Gateway.RateLimiting;
using Gateway.Routing;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.RateLimiting;

/// <summary>
/// A rate-limit policy's <c>windowSeconds</c> may be fractional (the route file accepts 0.001 to 86400, and explain shows
/// it as written): it is enforced as written. Until 2026-12-05 the rule rounded it up to whole seconds, so 50 per 0.1 s
/// (500/s) was enforced as 50/s.
/// </summary>
public sealed class FractionalWindowTests
{
    [Theory]
    [InlineData(0.1, 100, "q=500;w=1")]
    [InlineData(2.5, 2500, "q=60;w=3")]
    [InlineData(60, 60_000, "q=50;w=60")]
    [InlineData(0.043, 43, "q=1162;w=1")]     // to the millisecond, not truncated below it
    [InlineData(0.0015, 2, "q=25000;w=1")]    // the scripts count whole milliseconds: rounded
    public void AFractionalWindow_IsEnforcedAsConfigured(double windowSeconds, int expectedMs, string header)
    {
        var json = RouteFiles.Shipped();
        json["rateLimitPolicies"]!["per-user"]!["windowSeconds"] = windowSeconds;
        json["rateLimitPolicies"]!["per-user"]!["limit"] = 50;
        json["rateLimitPolicies"]!["per-user"]!["burst"] = 50;
        Assert.Empty(RouteClassFileParser.Parse(json.ToJsonString(), out var snapshot));
        var context = new DefaultHttpContext();
        context.Features.Set(new GatewayRequestFeature { RateLimitPolicy = "per-user" });

        var rule = new RouteTableRateLimitRuleResolver(new FixedRouteTable(snapshot!)).Resolve(context)!;

        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), rule.Window);
        Assert.EndsWith(header, rule.PolicyHeader);
    }

    private sealed class FixedRouteTable(RouteClassSnapshot snapshot) : IRouteTable
    {
        public RouteClassSnapshot Current => snapshot;
        public ConfigReloadStatus LastReload => throw new NotSupportedException();
        public event Action<RouteClassSnapshot>? Changed { add { } remove { } }
    }
}
