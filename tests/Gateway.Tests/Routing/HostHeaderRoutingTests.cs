using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Http;
using Gateway.Trust;
using TestInfrastructure;

namespace Gateway.Tests.Routing;

/// <summary>
/// Two teams own <c>/shop/**</c>: team A on a.example.com (cluster 'backend'), team B on *.b.example.com and for
/// requests with <c>X-Tenant: b</c> (cluster 'teamb'). Classification and proxying must agree on each request.
/// </summary>
public sealed class HostHeaderRoutingTests(RedisFixture redis) : IAsyncLifetime
{
    private FakeSessionBackend _teamA = null!;
    private RecordingBackend _teamB = null!;
    private GatewayInstance _gateway = null!;

    public async ValueTask InitializeAsync()
    {
        _teamA = await FakeSessionBackend.StartAsync();
        _teamB = await RecordingBackend.StartAsync();
        _teamB.Handler = ctx => { ctx.Response.Headers["X-Internal-Debug"] = "secret"; return ctx.Response.WriteAsync("team-b"); };
        string file = RouteFiles.CreateTemp(j =>
        {
            j["classes"]!["team-a"] = new JsonObject { ["tier"] = "standard", ["budgetMs"] = 200, ["auth"] = "anonymous", ["timeoutMs"] = 5000 };
            j["classes"]!["team-b"] = new JsonObject { ["tier"] = "critical-auth", ["budgetMs"] = 50, ["auth"] = "anonymous", ["timeoutMs"] = 5000 };
            j["clusters"]!["teamb"] = new JsonObject { ["address"] = _teamB.BaseUrl };
            j["routes"]!["shop-a"] = new JsonObject { ["path"] = "/shop/{**rest}", ["hosts"] = new JsonArray("a.example.com"), ["class"] = "team-a", ["cluster"] = "backend" };
            var transforms = new JsonObject
            {
                ["requestHeaders"] = new JsonObject { ["set"] = new JsonObject { ["X-Team"] = "b" }, ["remove"] = new JsonArray("X-Debug") },
                ["responseHeaders"] = new JsonObject { ["append"] = new JsonObject { ["X-Served-By"] = "team-b" }, ["remove"] = new JsonArray("X-Internal-Debug") },
            };
            j["routes"]!["shop-b"] = new JsonObject
            {
                ["path"] = "/shop/{**rest}", ["hosts"] = new JsonArray("*.b.example.com"), ["class"] = "team-b", ["cluster"] = "teamb",
                ["requestHeaders"] = transforms["requestHeaders"]!.DeepClone(), ["responseHeaders"] = transforms["responseHeaders"]!.DeepClone(),
            };
            j["routes"]!["shop-tenant-b"] = new JsonObject
            {
                ["path"] = "/shop/{**rest}", ["headers"] = new JsonArray(new JsonObject { ["name"] = "X-Tenant", ["values"] = new JsonArray("b") }),
                ["class"] = "team-b", ["cluster"] = "teamb",
            };
        });
        _gateway = await GatewayInstance.StartAsync(_teamA.BaseUrl, redis.ConnectionString, file, null,
            "--Signing:Clusters:teamb:Keys:0:Id=teamb-k1", $"--Signing:Clusters:teamb:Keys:0:Secret={GatewaySecrets.Generate()}");
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _teamA.DisposeAsync();
        await _teamB.DisposeAsync();
    }

    private Task<HttpResponseMessage> SendAsync(string host, string path, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Host = host;
        foreach (var (name, value) in headers) request.Headers.Add(name, value);
        return _gateway.Client.SendAsync(request);
    }

    [Fact]
    public async Task SamePathOnTwoHosts_IsClassifiedAndProxiedPerHost()
    {
        var a = await SendAsync("a.example.com", "/shop/cart");
        var b = await SendAsync("shop.b.example.com", "/shop/cart");

        Assert.Equal(HttpStatusCode.OK, a.StatusCode);
        Assert.Equal("team-a", a.Headers.GetValues("X-Route-Class").Single());
        Assert.Equal("backend:/shop/cart", await a.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, b.StatusCode);
        Assert.Equal("team-b", b.Headers.GetValues("X-Route-Class").Single());
        Assert.Equal("team-b", await b.Content.ReadAsStringAsync());
        Assert.Single(_teamA.ProxiedTo("/shop/cart"));
        Assert.Single(_teamB.Requests, r => r.Path == "/shop/cart");
    }

    [Fact]
    public async Task HeaderRoute_MatchesOnlyWithTheHeaderValue_OtherwiseTheDefaultClassApplies()
    {
        var tenant = await SendAsync("other.example.org", "/shop/cart", ("X-Tenant", "b"));
        Assert.Equal(HttpStatusCode.OK, tenant.StatusCode);
        Assert.Equal("team-b", tenant.Headers.GetValues("X-Route-Class").Single());

        // No route matches: the default class (session required) answers, and nothing reaches either team.
        var other = await SendAsync("other.example.org", "/shop/cart", ("X-Tenant", "c"));
        Assert.Equal(HttpStatusCode.Unauthorized, other.StatusCode);
        Assert.Equal("standard", other.Headers.GetValues("X-Route-Class").Single());
        Assert.Single(_teamB.Requests);
    }

    [Fact]
    public async Task OperatorHeaderTransforms_ApplyOnTopOfSigning()
    {
        var response = await SendAsync("x.b.example.com", "/shop/cart", ("X-Debug", "1"), ("X-Team", "forged"), ("X-User-Id", "forged"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("team-b", response.Headers.GetValues("X-Served-By").Single());
        Assert.False(response.Headers.Contains("X-Internal-Debug"));

        var received = Assert.Single(_teamB.Requests);
        Assert.Equal("b", received.Headers["X-Team"]);          // set replaces the client's value
        Assert.False(received.Headers.ContainsKey("X-Debug"));
        Assert.False(received.Headers.ContainsKey(IdentityHeaders.UserId));   // hygiene still strips the forged identity
        Assert.Equal("teamb-k1", received.Headers[IdentityHeaders.KeyId]);
    }
}
