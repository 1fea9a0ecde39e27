using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Tests.Support;
using TestInfrastructure;

namespace Gateway.Tests.Routing.Explain;

/// <summary>
/// <c>GET /gateway/explain</c> on a real gateway: what it answers, where it is served, and that its answer is what a real
/// request through the public port gets.
/// </summary>
public sealed class ExplainEndpointTests(RedisFixture redis) : IAsyncLifetime
{
    private FakeSessionBackend _backend = null!;
    private GatewayInstance _gateway = null!;
    private TestSession _session = null!;

    public async ValueTask InitializeAsync()
    {
        _backend = await FakeSessionBackend.StartAsync();
        _session = TestSession.Create();
        _backend.Add(_session);
        string file = RouteFiles.CreateTemp(j =>
        {
            j["classes"]!["public"] = new JsonObject { ["tier"] = "standard", ["budgetMs"] = 200, ["auth"] = "anonymous", ["timeoutMs"] = 4000 };
            j["classes"]!["admin"] = new JsonObject { ["tier"] = "standard", ["budgetMs"] = 200, ["auth"] = "role:admin", ["timeoutMs"] = 5000 };
            RouteFiles.AddRoute(j, "admin", "/admin/{**rest}", "admin");
            RouteFiles.AddRoute(j, "reports", "/reports/{id}", "standard", "GET");
            j["routes"]!["shop-a"] = new JsonObject { ["path"] = "/shop/{**rest}", ["hosts"] = new JsonArray("a.example.com"), ["class"] = "public", ["cluster"] = "backend" };
            j["routes"]!["shop-tenant"] = new JsonObject
            {
                ["path"] = "/shop/{**rest}", ["headers"] = new JsonArray(new JsonObject { ["name"] = "X-Tenant", ["values"] = new JsonArray("b") }),
                ["class"] = "public", ["cluster"] = "backend",
            };
            j["routes"]!["api"] = new JsonObject
            {
                ["path"] = "/api/{**rest}", ["pathRemovePrefix"] = "/api", ["class"] = "public", ["cluster"] = "backend",
                ["requestHeaders"] = new JsonObject { ["set"] = new JsonObject { ["X-Team"] = "api" } },
            };
        });
        _gateway = await GatewayInstance.StartAsync(_backend.BaseUrl, redis.ConnectionString, file, null, "--IdentityHeaders:Additional:0=X-Tenant-Secret");
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _backend.DisposeAsync();
    }

    private async Task<JsonElement> ExplainAsync(string method, string path, string? host = null, params string[] headers)
    {
        string query = $"/gateway/explain?method={method}&path={Uri.EscapeDataString(path)}"
            + (host is null ? "" : "&host=" + Uri.EscapeDataString(host))
            + string.Concat(headers.Select(h => "&headers=" + Uri.EscapeDataString(h)));
        var response = await _gateway.AdminClient.GetAsync(query);
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{query}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    [Fact]
    public async Task ProxiedRoute_NamesRouteClassAuthPoliciesTimeoutClusterAndTransforms()
    {
        var me = await ExplainAsync("GET", "/auth/me");
        Assert.Equal("proxied", me.GetProperty("outcome").GetString());
        Assert.Equal("auth-me", me.GetProperty("route").GetProperty("id").GetString());
        Assert.Equal("critical-auth-cached", me.GetProperty("class").GetProperty("name").GetString());
        Assert.Equal("session", me.GetProperty("auth").GetString());
        Assert.Equal("per-user", me.GetProperty("rateLimit").GetProperty("name").GetString());
        Assert.Equal("token-bucket", me.GetProperty("rateLimit").GetProperty("algorithm").GetString());
        Assert.Equal(30, me.GetProperty("cache").GetProperty("ttlSeconds").GetDouble());
        Assert.Equal(5000, me.GetProperty("timeoutMs").GetInt32());
        var cluster = me.GetProperty("cluster");
        Assert.Equal("backend", cluster.GetProperty("id").GetString());
        Assert.Equal(_backend.BaseUrl.TrimEnd('/') + "/", cluster.GetProperty("destinations")[0].GetProperty("address").GetString());

        var api = await ExplainAsync("POST", "/api/orders");
        Assert.Equal("anonymous", api.GetProperty("auth").GetString());
        var transforms = api.GetProperty("transforms").EnumerateArray().Select(t => t.ToString()).ToList();
        Assert.Contains(transforms, t => t.Contains("PathRemovePrefix") && t.Contains("/api"));
        Assert.Contains(transforms, t => t.Contains("X-Team"));

        var admin = await ExplainAsync("GET", "/admin/users");
        Assert.Equal("role:admin", admin.GetProperty("auth").GetString());
        Assert.Contains("403 without the role", admin.GetProperty("answer").GetString());
    }

    [Fact]
    public async Task APathThatBecomesInternalOnceItsPrefixIsRemoved_IsExplainedAsTheRefusalItGets()
    {
        var explained = await ExplainAsync("GET", "/api/internal/sessions/touch");
        Assert.Equal("internal-path", explained.GetProperty("outcome").GetString());
        Assert.Equal(404, explained.GetProperty("status").GetInt32());
        Assert.Equal(HttpStatusCode.NotFound, (await _gateway.Client.GetAsync("/api/internal/sessions/touch")).StatusCode);
        Assert.Empty(_backend.ProxiedTo("/internal/sessions/touch"));

        Assert.Equal("proxied", (await ExplainAsync("GET", "/api/internals")).GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task NoRoute_SaysNotFound_AfterTheDefaultClassChecks()
    {
        var none = await ExplainAsync("GET", "/nothing/here");
        Assert.Equal("not-found", none.GetProperty("outcome").GetString());
        Assert.Equal(404, none.GetProperty("status").GetInt32());
        Assert.Equal(JsonValueKind.Null, none.GetProperty("route").ValueKind);
        Assert.Equal("standard", none.GetProperty("class").GetProperty("name").GetString());
        Assert.StartsWith("No route matches: 404.", none.GetProperty("answer").GetString());
    }

    [Fact]
    public async Task HeaderAndHost_SelectTheirRoutes_AndIdentityHeadersAreReportedRemoved()
    {
        var tenant = await ExplainAsync("GET", "/shop/cart", "other.example.org", "X-Tenant: b", "X-User-Id: forged");
        Assert.Equal("shop-tenant", tenant.GetProperty("route").GetProperty("id").GetString());
        Assert.Equal("X-User-Id", tenant.GetProperty("removedHeaders")[0].GetString());

        // The settings' extra identity headers are stripped too (explain only knew the file's).
        var fromSettings = await ExplainAsync("GET", "/shop/cart", "a.example.com", "X-Tenant-Secret: forged");
        Assert.Equal("X-Tenant-Secret", Assert.Single(fromSettings.GetProperty("removedHeaders").EnumerateArray()).GetString());

        var host = await ExplainAsync("GET", "/shop/cart", "a.example.com");
        Assert.Equal("shop-a", host.GetProperty("route").GetProperty("id").GetString());
        Assert.Equal("not-found", (await ExplainAsync("GET", "/shop/cart", "other.example.org")).GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task Explain_IsOnTheOperatorListenerOnly_AndRefusesAnInvalidQuery()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await _gateway.Client.GetAsync("/gateway/explain?path=/auth/me")).StatusCode);
        var bad = await _gateway.AdminClient.GetAsync("/gateway/explain?path=auth/me");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("starting with '/'", await bad.Content.ReadAsStringAsync());
        var badHeader = await _gateway.AdminClient.GetAsync("/gateway/explain?path=/a&headers=no-colon");
        Assert.Equal(HttpStatusCode.BadRequest, badHeader.StatusCode);
    }

    public static TheoryData<string, string, string?, string?> Requests => new()
    {
        { "GET", "/auth/me", null, null },
        { "PUT", "/auth/me", null, null },
        { "GET", "/auth/login", null, null },
        { "GET", "/orgs/123", null, null },
        { "DELETE", "/orgs/123", null, null },
        { "GET", "/nothing/here", null, null },
        { "GET", "/admin/users", null, null },
        { "GET", "/reports/7", null, null },
        { "DELETE", "/reports/7", null, null },
        { "GET", "/shop/cart", "a.example.com", null },
        { "GET", "/shop/cart", "other.example.org", "X-Tenant: b" },
        { "GET", "/shop/cart", "other.example.org", "X-Tenant: c" },
        { "GET", "/api/orders", null, null },
        { "GET", "//orgs//123", null, null },
        { "GET", "/a%2Fb", null, null },
        // Dot segments: Kestrel removes them before routing (and the client here before sending); explain must too.
        { "GET", "/internal/../orgs/123", null, null },
        { "GET", "/orgs/./123", null, null },
        { "GET", "/../admin/users", null, null },
        { "GET", "/internal/sessions/introspect", null, null },
        { "GET", "/health", null, null },
        { "GET", "/gateway/status", null, null },
    };

    /// <summary>
    /// Explain's answer against the same request sent for real (with a valid session, so the status shows where routing
    /// sent it): the class in X-Route-Class, the status routing decides (400/404/405), the role check, and for proxied
    /// requests the path the backend received.
    /// </summary>
    [Theory]
    [MemberData(nameof(Requests))]
    public async Task Explain_AgreesWithARealRequestThroughThePublicPort(string method, string path, string? host, string? header)
    {
        var explain = await ExplainAsync(method, path, host, header is null ? [] : [header]);
        var request = new HttpRequestMessage(new HttpMethod(method), new Uri(_gateway.BaseUrl + path));
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + _session.Token);
        if (host is not null) request.Headers.Host = host;
        if (header is not null) request.Headers.TryAddWithoutValidation(header[..header.IndexOf(':')], header[(header.IndexOf(':') + 1)..].Trim());
        var response = await _gateway.Client.SendAsync(request);
        string body = await response.Content.ReadAsStringAsync();

        string outcome = explain.GetProperty("outcome").GetString()!;
        int expectedStatus = explain.GetProperty("status").ValueKind == JsonValueKind.Number ? explain.GetProperty("status").GetInt32()
            : explain.GetProperty("auth").GetString()!.StartsWith("role:") ? 403 : 200;
        Assert.True((int)response.StatusCode == expectedStatus, $"{method} {path}: explain says {outcome} {expectedStatus}, the gateway answered {(int)response.StatusCode} {body}");
        // Steps before classification (path refusal, operator split) answer without X-Route-Class.
        if (outcome is not ("ambiguous-path" or "operator-path"))
            Assert.Equal(explain.GetProperty("class").GetProperty("name").GetString(), response.Headers.GetValues("X-Route-Class").Single());
        if (outcome == "proxied" && expectedStatus == 200)
        {
            string routed = explain.GetProperty("routedPath").GetString()!;
            string expectedPath = explain.GetProperty("route").GetProperty("id").GetString() == "api" ? routed["/api".Length..] : routed;
            Assert.Equal("backend:" + expectedPath, body);
        }
    }

    [Theory]
    [InlineData("/a/./b", "/a/b")]
    [InlineData("/a/../b", "/b")]
    [InlineData("/..", "/")]
    [InlineData("/../../a", "/a")]
    [InlineData("/a/b/..", "/a/")]
    [InlineData("/a/.", "/a/")]
    [InlineData("/a/.b/..c", "/a/.b/..c")]
    [InlineData("//a/../b", "//b")]
    public void DotSegments_AreRemovedAsKestrelRemovesThem(string path, string routed) =>
        Assert.Equal(routed, Gateway.Routing.GatewayExplainApi.RemoveDotSegments(path));

    [Fact]
    public async Task ARawRequestWithDotSegments_IsClassifiedAsExplainSays()
    {
        // Sent raw: HttpClient would remove the dots itself. Kestrel removes them before routing.
        var explain = await ExplainAsync("GET", "/internal/../admin/users", null, []);
        var raw = await RawHttp.SendAsync(new Uri(_gateway.BaseUrl).Port, "GET /internal/../admin/users HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.Contains("X-Route-Class: " + explain.GetProperty("class").GetProperty("name").GetString(), raw.Text, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("admin", explain.GetProperty("class").GetProperty("name").GetString());
    }
}
