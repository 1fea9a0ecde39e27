using System.Text.Json.Nodes;
using Gateway.Routing;
using Gateway.Tests.Support;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.Tests.Routing;

/// <summary>The route-class file's multi-destination clusters, host/header matches and header transforms: validation and the YARP config built from them.</summary>
public sealed class ClusterAndRouteMatchValidationTests
{
    private static IReadOnlyList<string> Errors(Action<JsonObject> modify) => Parse(modify, out _);

    private static IReadOnlyList<string> Parse(Action<JsonObject> modify, out RouteClassSnapshot? snapshot)
    {
        var json = RouteFiles.Shipped();
        modify(json);
        return RouteClassFileParser.Parse(json.ToJsonString(), out snapshot);
    }

    private static JsonObject Orders(Action<JsonObject>? modify = null)
    {
        var cluster = (JsonObject)JsonNode.Parse("""
            { "destinations": { "a": "http://10.0.0.5:8080", "b": "http://10.0.0.6:8080" },
              "loadBalancing": "RoundRobin",
              "healthCheck": { "active": { "path": "/health", "intervalSeconds": 5, "timeoutSeconds": 2 }, "passive": true } }
            """)!;
        modify?.Invoke(cluster);
        return cluster;
    }

    [Fact]
    public void Cluster_InTheIssueFormat_BuildsYarpLoadBalancingAndHealthChecks()
    {
        var errors = Parse(j => j["clusters"]!["orders"] = Orders(), out var snapshot);
        Assert.Empty(errors);
        var orders = Assert.Single(ProxyConfigBuilder.Clusters(snapshot!, "http://127.0.0.1:8090/"), c => c.ClusterId == "orders");
        Assert.Equal(["a", "b"], orders.Destinations!.Keys.Order());
        Assert.Equal("http://10.0.0.6:8080", orders.Destinations!["b"].Address);
        Assert.Equal("RoundRobin", orders.LoadBalancingPolicy);
        Assert.True(orders.HealthCheck!.Active!.Enabled);
        Assert.Equal("/health", orders.HealthCheck.Active.Path);
        Assert.Equal(TimeSpan.FromSeconds(5), orders.HealthCheck.Active.Interval);
        Assert.Equal(TimeSpan.FromSeconds(2), orders.HealthCheck.Active.Timeout);
        Assert.True(orders.HealthCheck.Passive!.Enabled);
        Assert.Equal("HealthyAndUnknown", orders.HealthCheck.AvailableDestinationsPolicy);
        Assert.Equal("1", orders.Metadata!["ConsecutiveFailuresHealthPolicy.Threshold"]);

        // The shorthand keeps working: one destination, Backend:BaseUrl for "", YARP's default policy, no health checks.
        var backend = Assert.Single(ProxyConfigBuilder.Clusters(snapshot!, "http://127.0.0.1:8090/"), c => c.ClusterId == "backend");
        Assert.Equal("http://127.0.0.1:8090/", Assert.Single(backend.Destinations!).Value.Address);
        Assert.Equal("PowerOfTwoChoices", backend.LoadBalancingPolicy);
        Assert.Null(backend.HealthCheck);
    }

    [Fact]
    public void Cluster_EveryMistakeIsReportedAtOnce_NamingTheClusterAndTheFix()
    {
        var errors = Errors(j =>
        {
            j["clusters"]!["bad-url"] = Orders(c => c["destinations"]!["b"] = "10.0.0.6:8080");
            j["clusters"]!["bad-policy"] = Orders(c => c["loadBalancing"] = "Fastest");
            j["clusters"]!["both"] = Orders(c => c["address"] = "http://10.0.0.7:8080");
            j["clusters"]!["empty"] = Orders(c => c["destinations"] = new JsonObject());
            j["clusters"]!["zero-interval"] = Orders(c => c["healthCheck"]!["active"]!["intervalSeconds"] = 0);
            j["clusters"]!["slow-probe"] = Orders(c => c["healthCheck"]!["active"]!["timeoutSeconds"] = 5);
            j["clusters"]!["no-path"] = Orders(c => ((JsonObject)c["healthCheck"]!["active"]!).Remove("path"));
            j["clusters"]!["passive-typo"] = Orders(c => c["healthCheck"]!["passive"] = "yes");
            // 1e12 s overflowed TimeSpan inside the reload, which only logged it: the file was neither loaded nor refused.
            j["clusters"]!["huge-interval"] = Orders(c => c["healthCheck"]!["active"]!["intervalSeconds"] = 1e12);
        });
        Assert.Equal(9, errors.Count);
        Assert.Contains(errors, e => e.StartsWith("Cluster 'huge-interval' 'healthCheck.active' has 'intervalSeconds'") && e.Contains("outside 0.001 to 86400 seconds"));
        Assert.Contains(errors, e => e.StartsWith("Cluster 'bad-url' has destination 'b'") && e.Contains("not an absolute http(s) URL"));
        Assert.Contains(errors, e => e.StartsWith("Cluster 'bad-policy' has unknown 'loadBalancing' 'Fastest'") && e.Contains("RoundRobin, LeastRequests"));
        Assert.Contains(errors, e => e.StartsWith("Cluster 'both' has both 'address' and 'destinations'"));
        Assert.Contains(errors, e => e.StartsWith("Cluster 'empty' has no destinations"));
        Assert.Contains(errors, e => e.StartsWith("Cluster 'zero-interval' 'healthCheck.active' has 'intervalSeconds' 0") && e.Contains("greater than 0"));
        Assert.Contains(errors, e => e.StartsWith("Cluster 'slow-probe' 'healthCheck.active' has 'timeoutSeconds' 5 not below 'intervalSeconds' 5"));
        Assert.Contains(errors, e => e.StartsWith("Cluster 'no-path' 'healthCheck.active' is missing 'path'"));
        Assert.Contains(errors, e => e.StartsWith("Cluster 'passive-typo' has 'healthCheck.passive' \"yes\""));
    }

    [Fact]
    public void Route_HostsHeadersAndTransforms_BecomeTheYarpRoute()
    {
        var errors = Parse(j => j["routes"]!["shop"] = JsonNode.Parse("""
            { "path": "/shop/{**rest}", "hosts": ["api.example.com", "*.example.com"], "class": "standard", "cluster": "backend",
              "headers": [{ "name": "X-Tenant", "values": ["a"], "mode": "ExactHeader" }],
              "requestHeaders": { "set": { "X-Team": "shop" }, "append": { "X-Via": "edge" }, "remove": ["X-Debug"] },
              "responseHeaders": { "remove": ["Server"] } }
            """), out var snapshot);
        Assert.Empty(errors);
        var route = Assert.Single(ProxyConfigBuilder.Routes(snapshot!), r => r.RouteId == "shop");
        Assert.Equal(["api.example.com", "*.example.com"], route.Match.Hosts!);
        var header = Assert.Single(route.Match.Headers!);
        Assert.Equal(("X-Tenant", "a", HeaderMatchMode.ExactHeader), (header.Name, Assert.Single(header.Values!), header.Mode));
        Assert.Contains(route.Transforms!, t => t.TryGetValue("RequestHeader", out var n) && n == "X-Team" && t["Set"] == "shop");
        Assert.Contains(route.Transforms!, t => t.TryGetValue("RequestHeader", out var n) && n == "X-Via" && t["Append"] == "edge");
        Assert.Contains(route.Transforms!, t => t.TryGetValue("RequestHeaderRemove", out var n) && n == "X-Debug");
        Assert.Contains(route.Transforms!, t => t.TryGetValue("ResponseHeaderRemove", out var n) && n == "Server" && t["When"] == "Always");
        // A route without these features stays as before: nothing for YARP to evaluate per request.
        var plain = Assert.Single(ProxyConfigBuilder.Routes(snapshot!), r => r.RouteId == "users");
        Assert.Null(plain.Match.Hosts);
        Assert.Null(plain.Match.Headers);
        Assert.Null(plain.Transforms);
    }

    [Fact]
    public void Route_SamePathOnOtherHosts_IsNotADuplicate_ButTheSameHostIs()
    {
        Assert.Empty(Errors(j =>
        {
            j["routes"]!["a"] = new JsonObject { ["path"] = "/shop/{**rest}", ["hosts"] = new JsonArray("a.example.com"), ["class"] = "standard", ["cluster"] = "backend" };
            j["routes"]!["b"] = new JsonObject { ["path"] = "/shop/{**rest}", ["hosts"] = new JsonArray("b.example.com"), ["class"] = "standard", ["cluster"] = "backend" };
        }));
        var errors = Errors(j =>
        {
            j["routes"]!["a"] = new JsonObject { ["path"] = "/shop/{**rest}", ["hosts"] = new JsonArray("A.example.com"), ["class"] = "standard", ["cluster"] = "backend" };
            j["routes"]!["b"] = new JsonObject { ["path"] = "/shop/{**rest}", ["hosts"] = new JsonArray("a.example.com"), ["class"] = "standard", ["cluster"] = "backend" };
        });
        Assert.Contains("Route 'b' duplicates the path '/shop/{**rest}' of route 'a'", Assert.Single(errors));
    }

    /// <summary>
    /// Two routes of one path that some request matches at the same rank: ASP.NET routing answered every such request
    /// with an AmbiguousMatchException (500). Only identical host and header sets were refused until 2026-12-06.
    /// </summary>
    [Theory]
    [InlineData("""{ "hosts": ["a.example.com"] }""", """{ "hosts": ["a.example.com", "b.example.com"] }""")]
    [InlineData("""{ "hosts": ["*.example.com"] }""", """{ "hosts": ["shop.example.com"] }""")]
    [InlineData("""{ "hosts": ["a.example.com"] }""", """{ "hosts": ["a.example.com:8443"] }""")]
    [InlineData("""{ "headers": [{ "name": "X-Tenant", "values": ["beta"] }] }""", """{ "headers": [{ "name": "X-Region", "values": ["eu"] }] }""")]
    [InlineData("""{ "headers": [{ "name": "X-Tenant", "values": ["a"] }] }""", """{ "headers": [{ "name": "X-Tenant", "values": ["a", "b"] }] }""")]
    [InlineData("""{ "headers": [{ "name": "X-Tenant", "values": ["be"], "mode": "HeaderPrefix" }] }""", """{ "headers": [{ "name": "X-Tenant", "values": ["beta"] }] }""")]
    public void Routes_OnePathThatOneRequestMatchesAtTheSameRank_AreRefused(string first, string second)
    {
        var errors = Errors(j =>
        {
            j["routes"]!["a"] = Shop(first);
            j["routes"]!["b"] = Shop(second);
        });
        Assert.Contains("Route 'b' and route 'a' both match some requests to '/shop/{**rest}'", Assert.Single(errors));
    }

    [Theory]
    [InlineData("""{ "hosts": ["a.example.com"] }""", """{ "hosts": ["b.example.com"] }""")]
    [InlineData("""{ "hosts": ["a.example.com:8080"] }""", """{ "hosts": ["a.example.com:8443"] }""")]
    [InlineData("""{ "hosts": ["*.example.com"] }""", """{ "hosts": ["*.example.org"] }""")]
    [InlineData("""{ "hosts": ["a.example.com"] }""", """{ }""")]                                 // the route with hosts ranks first
    [InlineData("""{ "headers": [{ "name": "X-Tenant", "values": ["a"] }] }""", """{ }""")]        // more header conditions rank first
    [InlineData("""{ "headers": [{ "name": "X-Tenant", "values": ["a"] }] }""", """{ "headers": [{ "name": "X-Tenant", "values": ["b"] }] }""")]
    [InlineData("""{ "headers": [{ "name": "X-Tenant", "mode": "Exists" }] }""", """{ "headers": [{ "name": "X-Tenant", "mode": "NotExists" }] }""")]
    [InlineData("""{ "methods": ["GET"] }""", """{ "methods": ["POST"] }""")]
    public void Routes_OnePathThatNoRequestMatchesAtTheSameRank_AreAccepted(string first, string second)
    {
        Assert.Empty(Errors(j =>
        {
            j["routes"]!["a"] = Shop(first);
            j["routes"]!["b"] = Shop(second);
        }));
    }

    private static JsonObject Shop(string conditions)
    {
        var route = (JsonObject)JsonNode.Parse(conditions)!;
        route["path"] = "/shop/{**rest}";
        route["class"] = "standard";
        route["cluster"] = "backend";
        return route;
    }

    [Fact]
    public void Route_AnEmptyOrRepeatingMethodsList_IsRefused()
    {
        var errors = Errors(j =>
        {
            j["routes"]!["a"] = Shop("""{ "methods": [] }""");
            j["routes"]!["b"] = new JsonObject { ["path"] = "/b", ["methods"] = new JsonArray("GET", "GET"), ["class"] = "standard", ["cluster"] = "backend" };
        });
        Assert.Equal(2, errors.Count);
        Assert.Contains(errors, e => e.StartsWith("Route 'a' has an empty 'methods' list, which would match every method."));
        Assert.Contains(errors, e => e.StartsWith("Route 'b' lists method 'GET' twice."));
    }

    [Theory]
    [InlineData("requestHeaders", "set", "X-User-Id")]
    [InlineData("requestHeaders", "append", "x_org_role")]
    [InlineData("requestHeaders", "remove", "X-Gateway-Signature")]
    [InlineData("responseHeaders", "set", "X-Gateway-Anything")]
    [InlineData("requestHeaders", "set", "X-Tenant-Id")]   // identityHeaders.additional below
    public void Transform_NamingAnIdentityHeader_IsRefused(string side, string op, string header)
    {
        var errors = Errors(j =>
        {
            j["identityHeaders"] = new JsonObject { ["additional"] = new JsonArray("X-Tenant-Id") };
            JsonNode ops = op == "remove" ? new JsonArray(header) : new JsonObject { [header] = "forged" };
            j["routes"]!["users"]![side] = new JsonObject { [op] = ops };
        });
        var error = Assert.Single(errors);
        Assert.StartsWith($"Route 'users' '{side}' '{op}' names '{header}', an identity header", error);
        Assert.Contains("remove it from the transform", error);
    }

    [Fact]
    public void Route_BadHostsHeadersAndForwardingTransforms_AreEachReported()
    {
        var errors = Errors(j => j["routes"]!["users"] = JsonNode.Parse("""
            { "path": "/users/{**rest}", "class": "critical-auth", "cluster": "backend",
              "hosts": ["https://api.example.com/x"],
              "headers": [{ "name": "X-User-Id", "mode": "Exists" }, { "name": "X-Tenant", "mode": "Equals", "values": ["a"] }, { "name": "X-Plan" }],
              "requestHeaders": { "set": { "X-Forwarded-For": "1.2.3.4" } } }
            """));
        Assert.Equal(5, errors.Count);
        Assert.Contains(errors, e => e.Contains("has host \"https://api.example.com/x\", which is not a host name"));
        Assert.Contains(errors, e => e.Contains("matches on header 'X-User-Id', an identity header"));
        Assert.Contains(errors, e => e.Contains("has header mode 'Equals'") && e.Contains("ExactHeader, HeaderPrefix"));
        Assert.Contains(errors, e => e.Contains("matches header 'X-Plan' with mode ExactHeader but no 'values'"));
        Assert.Contains(errors, e => e.Contains("names 'X-Forwarded-For', which the gateway sets itself"));
    }

    [Fact]
    public void Route_MatchingOnAHeaderNamedInTheSettingsIdentityHeaders_IsRefused()
    {
        // IdentityHeaders:Additional (appsettings) is stripped from clients like the file's own list: a match on it could
        // never see a value. The file alone does not name it, so the check needs the settings' names.
        var json = RouteFiles.Shipped();
        json["routes"]!["shop"] = JsonNode.Parse("""
            { "path": "/shop/{**rest}", "class": "standard", "cluster": "backend",
              "headers": [{ "name": "X_Tenant_Id", "values": ["a"] }],
              "requestHeaders": { "set": { "x-tenant-id": "shop" } } }
            """);
        Assert.Empty(RouteClassFileParser.Parse(json.ToJsonString(), out _));

        var errors = RouteClassFileParser.Parse(json.ToJsonString(), out var snapshot, ["X-Tenant-Id"]);
        Assert.Null(snapshot);
        Assert.Equal(2, errors.Count);
        Assert.Contains(errors, e => e.Contains("matches on header 'X_Tenant_Id', an identity header the gateway removes"));
        Assert.Contains(errors, e => e.Contains("names 'x-tenant-id', an identity header"));
    }
}
