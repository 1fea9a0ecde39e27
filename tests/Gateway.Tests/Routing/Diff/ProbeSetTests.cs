using System.Text.Json.Nodes;
using Gateway.Routing.Diff;
using Gateway.Tests.Support;

namespace Gateway.Tests.Routing.Diff;

public sealed class ProbeSetTests
{
    [Fact]
    public void Patterns_AreInstantiated_WithPrefixesAndOneSegmentBelow()
    {
        var paths = new SortedSet<string>(StringComparer.Ordinal);
        ProbeSet.AddPaths("/orgs/{id:int}/members/{**rest}", paths);
        Assert.Equal(["/orgs", "/orgs/1/members", "/orgs/1/members/probe", "/orgs/probe"], paths);
    }

    [Fact]
    public void HostsWildcardsMethodsAndHeaders_AllTakePart()
    {
        var json = RouteFiles.Shipped();
        json["routes"]!["shop"] = new JsonObject
        {
            ["path"] = "/shop/{**rest}", ["hosts"] = new JsonArray("*.b.example.com"), ["methods"] = new JsonArray("OPTIONS"),
            ["headers"] = new JsonArray(new JsonObject { ["name"] = "X-Tenant", ["values"] = new JsonArray("b"), ["mode"] = "HeaderPrefix" }),
            ["class"] = "standard", ["cluster"] = "backend",
        };
        var probes = ProbeSet.For([ConfigDiffTests.Snapshot(json)], out bool truncated);

        Assert.False(truncated);
        Assert.Contains(probes, p => p.Method == "OPTIONS" && p.Path == "/shop/probe" && p.Host == "probe.b.example.com"
            && p.Headers.SequenceEqual([new KeyValuePair<string, string>("X-Tenant", "bprobe")]));
        Assert.Contains(probes, p => p.Method == "DELETE" && p.Path == "/shop" && p.Host is null && p.Headers.Count == 0);
    }
}
