using System.Net;
using Microsoft.AspNetCore.Http;
using System.Text.Json.Nodes;
using Gateway.Routing;
using Gateway.Tests.Support;
using TestInfrastructure;

namespace Gateway.Tests.Routing;

public sealed class HotReloadTests(RedisFixture redis) : IAsyncLifetime
{
    private GatewayOnRouteFile _stack = null!;
    private GatewayInstance _gateway => _stack.Gateway;
    private string _file => _stack.File;

    public async ValueTask InitializeAsync() => _stack = await GatewayOnRouteFile.StartAsync(redis.ConnectionString);

    public ValueTask DisposeAsync() => _stack.DisposeAsync();

    private static JsonObject WithPublicRoute(string version)
    {
        var json = RouteFiles.Shipped();
        json["version"] = version;
        json["classes"]!["public"] = new JsonObject { ["tier"] = "standard", ["budgetMs"] = 100, ["auth"] = "anonymous", ["timeoutMs"] = 3000 };
        RouteFiles.AddRoute(json, "public", "/public/{**rest}", "public");
        return json;
    }

    [Fact]
    public async Task ValidFile_AppliesNewClassAndRouteWithoutRestart()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await _gateway.Client.GetAsync("/public/page")).StatusCode);
        await File.WriteAllTextAsync(_file, WithPublicRoute("reload-1").ToJsonString());

        await Poll.UntilAsync(async () => (await _gateway.Client.GetAsync("/public/page")).StatusCode == HttpStatusCode.OK, "the new route serves");
        var response = await _gateway.Client.GetAsync("/public/page");
        Assert.Equal("public", response.Headers.GetValues("X-Route-Class").Single());
        var table = _gateway.Get<IRouteTable>();
        Assert.Equal("reload-1", table.Current.Version);
        Assert.True(table.LastReload.Ok);
    }

    [Fact]
    public async Task AClassRenamedByAReload_StillClassifiesARequestMatchedOnThePreviousRoutes()
    {
        // Routing (YARP's endpoints) and classification (this table) change in two steps: a request matched on the old
        // route, classified after the swap, named a class the new file no longer has and got the default class instead.
        var before = WithPublicRoute("rename-1");
        before["classes"]!["org-admins"] = new JsonObject { ["tier"] = "critical-auth", ["budgetMs"] = 50, ["auth"] = "role:admin", ["timeoutMs"] = 3000 };
        RouteFiles.AddRoute(before, "org-settings", "/orgs/{id}/settings", "org-admins");
        await File.WriteAllTextAsync(_file, before.ToJsonString());
        var table = _gateway.Get<IRouteTable>();
        await Poll.UntilAsync(() => table.Current.Version == "rename-1", "the first file is applied");

        var after = WithPublicRoute("rename-2");
        after["classes"]!["admins"] = before["classes"]!["org-admins"]!.DeepClone();
        RouteFiles.AddRoute(after, "org-settings", "/orgs/{id}/settings", "admins");
        await File.WriteAllTextAsync(_file, after.ToJsonString());
        await Poll.UntilAsync(() => table.Current.Version == "rename-2", "the renaming file is applied");

        Assert.False(table.Current.Classes.ContainsKey("org-admins"));
        var cls = table.ClassOf("org-admins");
        Assert.Equal(("org-admins", AuthKind.Role, OrgRole.Admin), (cls.Name, cls.Auth, cls.MinimumRole));
        Assert.Equal("admins", table.ClassOf("admins").Name);
        Assert.Equal(table.Current.DefaultClass, table.ClassOf("never-defined"));
    }

    [Fact]
    public async Task ClassesAndPolicies_AreLookedUpInTheSnapshotTheMatchedRouteCameFrom()
    {
        // Two files that swap two class names and rename a rate-limit policy. A request matched on the first file's routes
        // and classified after the swap got the second file's class of the same name (an anonymous one for a role route),
        // and its policy, looked up by name in the second file, was not found: no rate limit for that request.
        var before = WithPublicRoute("swap-1");
        before["classes"]!["admins"] = new JsonObject { ["tier"] = "critical-auth", ["budgetMs"] = 50, ["auth"] = "role:admin", ["timeoutMs"] = 3000, ["rateLimit"] = "per-user" };
        RouteFiles.AddRoute(before, "org-settings", "/orgs/{id}/settings", "admins");
        await File.WriteAllTextAsync(_file, before.ToJsonString());
        var table = _gateway.Get<IRouteTable>();
        await Poll.UntilAsync(() => table.Current.Version == "swap-1", "the first file is applied");
        var first = table.Current;

        var after = WithPublicRoute("swap-2");
        after["classes"]!["admins"] = before["classes"]!["public"]!.DeepClone();
        after["classes"]!["public"] = before["classes"]!["admins"]!.DeepClone();
        after["rateLimitPolicies"]!["per-user-v2"] = after["rateLimitPolicies"]!["per-user"]!.DeepClone();
        after["rateLimitPolicies"]!.AsObject().Remove("per-user");
        foreach (var (_, c) in after["classes"]!.AsObject())
            if ((string?)c!["rateLimit"] == "per-user") c["rateLimit"] = "per-user-v2";
        RouteFiles.AddRoute(after, "org-settings", "/orgs/{id}/settings", "public");
        await File.WriteAllTextAsync(_file, after.ToJsonString());
        await Poll.UntilAsync(() => table.Current.Version == "swap-2", "the swapping file is applied");

        var (snapshot, cls) = table.Resolve(first.Generation, "admins");
        Assert.Same(first, snapshot);
        Assert.Equal((AuthKind.Role, "per-user"), (cls.Auth, cls.RateLimit));
        Assert.Equal(AuthKind.Anonymous, table.Resolve(table.Current.Generation, "admins").Class.Auth);
        Assert.Equal(AuthKind.Anonymous, table.Resolve(null, "admins").Class.Auth);

        var resolver = new Gateway.RateLimiting.RouteTableRateLimitRuleResolver(table);
        var matchedBefore = new DefaultHttpContext();
        matchedBefore.Features.Set(new Gateway.Pipeline.GatewayRequestFeature { RateLimitPolicy = "per-user", Snapshot = first });
        Assert.Equal("per-user", resolver.Resolve(matchedBefore)?.Name);
        var matchedAfter = new DefaultHttpContext();
        matchedAfter.Features.Set(new Gateway.Pipeline.GatewayRequestFeature { RateLimitPolicy = "per-user-v2", Snapshot = table.Current });
        Assert.Equal("per-user-v2", resolver.Resolve(matchedAfter)?.Name);
        Assert.Equal("per-user", resolver.Resolve(matchedBefore)?.Name);   // both snapshots stay resolvable
    }

    [Fact]
    public async Task ARouteNameThatDiffersOnlyInCase_IsRejected_AndTheRoutesInForceKeepServing()
    {
        // The proxy compares route ids ignoring case: it refused the whole new route table after the file had been
        // accepted, so the old routes kept serving under the new classes while the status said the reload succeeded.
        var table = _gateway.Get<IRouteTable>();
        string active = table.Current.Version;
        var json = WithPublicRoute("case-1");
        RouteFiles.AddRoute(json, "Public", "/public2/{**rest}", "public");
        await File.WriteAllTextAsync(_file, json.ToJsonString());

        await Poll.UntilAsync(() => !table.LastReload.Ok, "the file is rejected");
        Assert.Contains(table.LastReload.Errors, e => e.Contains("'Public' and 'public' differ only in letter case"));
        Assert.Equal(active, table.Current.Version);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _gateway.Client.GetAsync("/public/page")).StatusCode);
    }

    [Fact]
    public async Task InvalidFile_IsRejectedAsAWhole_AndThePreviousConfigKeepsServing()
    {
        await File.WriteAllTextAsync(_file, WithPublicRoute("reload-good").ToJsonString());
        var table = _gateway.Get<IRouteTable>();
        await Poll.UntilAsync(() => table.Current.Version == "reload-good", "the valid file is applied");
        Assert.Contains("\ngateway_config_last_reload_success 1\n", await _gateway.AdminClient.GetStringAsync("/metrics"));

        var broken = WithPublicRoute("reload-bad");
        broken["routes"]!["public"]!["class"] = "pubic";
        broken["routes"]!["audit"] = new JsonObject { ["path"] = "/public2/{**rest}", ["class"] = "public", ["cluster"] = "backend" };
        broken["classes"]!["standard"]!["tier"] = "slow";
        await File.WriteAllTextAsync(_file, broken.ToJsonString());

        await Poll.UntilAsync(() => !table.LastReload.Ok, "the invalid file is rejected");
        Assert.Equal("reload-good", table.Current.Version);
        Assert.Equal("reload-good", table.LastReload.ActiveVersion);
        Assert.Contains(table.LastReload.Errors, e => e.Contains("'pubic'"));
        Assert.Contains(table.LastReload.Errors, e => e.Contains("'slow'"));
        Assert.Equal(HttpStatusCode.OK, (await _gateway.Client.GetAsync("/public/page")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _gateway.Client.GetAsync("/public2/page")).StatusCode);
        // What the GatewayConfigReloadRejected alert (config/prometheus/alerts.yml) fires on.
        Assert.Contains("\ngateway_config_last_reload_success 0\n", await _gateway.AdminClient.GetStringAsync("/metrics"));

        var config = await _gateway.AdminClient.GetStringAsync("/gateway/config");
        using var doc = System.Text.Json.JsonDocument.Parse(config);
        Assert.False(doc.RootElement.GetProperty("lastReload").GetProperty("ok").GetBoolean());
        // Readable as served: the quotes of the messages as written, not HTML-safe \u0027 escapes.
        Assert.Contains("'pubic'", config);
        Assert.DoesNotContain("\\u0027", config);
        var status = await _gateway.AdminClient.GetStringAsync("/gateway/status");
        Assert.Contains("'pubic'", status);
        Assert.DoesNotContain("\\u0027", status);

        // Both documents name the file in use, the active version and the version the rejected file declared.
        Assert.Equal(Path.GetFullPath(_file), doc.RootElement.GetProperty("path").GetString());
        Assert.Equal("reload-good", doc.RootElement.GetProperty("version").GetString());
        Assert.Equal("reload-bad", doc.RootElement.GetProperty("attemptedVersion").GetString());
        Assert.Equal("reload-bad", doc.RootElement.GetProperty("lastRejected").GetProperty("attemptedVersion").GetString());
        using var statusDoc = System.Text.Json.JsonDocument.Parse(status);
        var section = statusDoc.RootElement.GetProperty("config");
        Assert.Equal(Path.GetFullPath(_file), section.GetProperty("path").GetString());
        Assert.Equal("reload-good", section.GetProperty("version").GetString());
        Assert.Equal("reload-bad", section.GetProperty("attemptedVersion").GetString());
        Assert.Equal("reload-bad", section.GetProperty("lastRejected").GetProperty("version").GetString());
        Assert.Contains(section.GetProperty("lastRejected").GetProperty("errors").EnumerateArray(), e => e.GetString()!.Contains("'pubic'"));

        // A later good file keeps the rejected one on record: the operator still sees what was refused.
        await File.WriteAllTextAsync(_file, WithPublicRoute("reload-fixed").ToJsonString());
        await Poll.UntilAsync(() => table.Current.Version == "reload-fixed", "the fixed file is applied");
        Assert.Equal("reload-bad", table.LastRejected?.AttemptedVersion);
    }
}
