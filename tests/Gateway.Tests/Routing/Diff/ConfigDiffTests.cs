using System.Text.Json.Nodes;
using Gateway.Routing;
using Gateway.Routing.Diff;
using Gateway.Routing.Explain;
using Gateway.Tests.Support;

namespace Gateway.Tests.Routing.Diff;

/// <summary>The diff engine on crafted pairs of route-class files: what got weaker, and what did not.</summary>
public sealed class ConfigDiffTests
{
    internal static RouteClassSnapshot Snapshot(JsonObject json)
    {
        var errors = RouteClassFileParser.Parse(json.ToJsonString(), out var snapshot);
        Assert.True(snapshot is not null, "test file invalid: " + string.Join("; ", errors));
        return snapshot!;
    }

    internal static JsonObject WithAdminArea()
    {
        var json = RouteFiles.Shipped();
        json["classes"]!["admin"] = new JsonObject { ["tier"] = "standard", ["budgetMs"] = 200, ["auth"] = "role:admin", ["timeoutMs"] = 5000 };
        json["classes"]!["public"] = new JsonObject { ["tier"] = "standard", ["budgetMs"] = 200, ["auth"] = "anonymous", ["timeoutMs"] = 5000 };
        RouteFiles.AddRoute(json, "admin", "/admin/{**rest}", "admin");
        return json;
    }

    private static async Task<ConfigDiffReport> DiffAsync(JsonObject before, Action<JsonObject> edit)
    {
        var after = before.DeepClone().AsObject();
        after["version"] = "new";
        edit(after);
        return await ConfigDiff.CompareAsync(Snapshot(before), Snapshot(after));
    }

    private static AccessChange SingleWeakened(ConfigDiffReport report, string path, string? host = null)
    {
        Assert.True(report.HasWeakening, "expected weaker access; changes: " + string.Join(" | ", report.Changes.Select(ConfigDiffText.Summary)));
        return Assert.Single(report.Weakened, w => w.Requests.Any(r => r.Path == path && r.Host == host));
    }

    [Fact]
    public async Task ClassLoweredFromSessionToAnonymous_IsWeakerOnEveryRouteOfTheClass()
    {
        var report = await DiffAsync(RouteFiles.Shipped(), j => j["classes"]!["standard"]!["auth"] = "anonymous");

        var orgs = SingleWeakened(report, "/orgs/probe");
        Assert.Equal("orgs", orgs.Old.RouteId);
        Assert.Equal("session", orgs.Old.Access.ToString());
        Assert.Equal("anonymous", orgs.New.Access.ToString());
        Assert.Contains(report.Weakened, w => w.Old.RouteId == "audit");
        // Unmatched requests reach nothing either way: the default class getting weaker exposes no path.
        Assert.DoesNotContain(report.Changes, c => c.Old.Outcome == ExplainOutcome.NotFound);
        Assert.Contains("auth: session → anonymous", report.Routes.Single(r => r.Route == "orgs").Details);
    }

    [Fact]
    public async Task RoleLowered_IsWeaker_RoleRaised_IsOnlyAChange()
    {
        var lowered = await DiffAsync(WithAdminArea(), j => j["classes"]!["admin"]!["auth"] = "role:member");
        var admin = SingleWeakened(lowered, "/admin/probe");
        Assert.Equal("role:admin", admin.Old.Access.ToString());
        Assert.Equal("role:member", admin.New.Access.ToString());

        var raised = await DiffAsync(WithAdminArea(), j => j["classes"]!["admin"]!["auth"] = "role:owner");
        Assert.False(raised.HasWeakening);
        var change = Assert.Single(raised.Changes, c => c.Kind == AccessChangeKind.Changed);
        Assert.Contains(change.Changes, a => a is { Name: "auth", Old: "role:admin", New: "role:owner" });
    }

    [Fact]
    public async Task CatchAllSwallowsAProtectedPath_WhenTheProtectedRouteMoves()
    {
        var before = WithAdminArea();
        before["routes"]!["admin"]!["path"] = "/site/admin/{**rest}";
        RouteFiles.AddRoute(before, "site", "/site/{**rest}", "public");
        // A typo moves the admin area: its old paths now fall through to the public catch-all above it.
        var report = await DiffAsync(before, j => j["routes"]!["admin"]!["path"] = "/site/admins/{**rest}");

        var swallowed = SingleWeakened(report, "/site/admin/probe");
        Assert.Equal("admin", swallowed.Old.RouteId);
        Assert.Equal("site", swallowed.New.RouteId);
        Assert.Contains(swallowed.Requests, r => r.Path == "/site/admin" && r.Method == "DELETE");
        Assert.Contains(report.Routes, r => r.Route == "admin" && r.Details.Contains("path: /site/admin/{**rest} → /site/admins/{**rest}"));
    }

    [Fact]
    public async Task HostWildcardWidening_TakesRequestsTheProtectedRouteServedOnOtherHosts()
    {
        var before = WithAdminArea();
        before["routes"]!["admin-public"] = new JsonObject
        {
            ["path"] = "/admin/{**rest}", ["hosts"] = new JsonArray("public.example.com"), ["class"] = "public", ["cluster"] = "backend",
        };
        var report = await DiffAsync(before, j => j["routes"]!["admin-public"]!["hosts"] = new JsonArray("*.example.com"));

        var widened = SingleWeakened(report, "/admin/probe", "probe.example.com");
        Assert.Equal("admin", widened.Old.RouteId);
        Assert.Equal("admin-public", widened.New.RouteId);
        // Requests on hosts the wildcard does not cover keep the protected route.
        Assert.DoesNotContain(report.Weakened.SelectMany(w => w.Requests), r => r.Host is null);
    }

    [Fact]
    public async Task RouteOpenedToAllMethods_IsWeakerWhereACatchAllProtectedTheOtherMethods()
    {
        // POST /auth/login is anonymous; GET /auth/login belonged to the session-only 'auth' catch-all.
        // (sessionCookie goes too: a cookie-issuing route must name its methods.)
        var report = await DiffAsync(RouteFiles.Shipped(), j =>
        {
            var login = j["routes"]!["auth-login"]!.AsObject();
            login.Remove("methods");
            login.Remove("sessionCookie");
        });

        var login = SingleWeakened(report, "/auth/login");
        Assert.Equal("auth", login.Old.RouteId);
        Assert.Equal("auth-login", login.New.RouteId);
        Assert.DoesNotContain(login.Requests, r => r.Method == "POST");
    }

    [Fact]
    public async Task HeaderMatchedRoute_IsProbedWithItsHeaders()
    {
        var report = await DiffAsync(WithAdminArea(), j => j["routes"]!["admin-debug"] = new JsonObject
        {
            ["path"] = "/admin/{**rest}", ["class"] = "public", ["cluster"] = "backend",
            ["headers"] = new JsonArray(new JsonObject { ["name"] = "X-Debug", ["values"] = new JsonArray("1") }),
        });

        var debug = SingleWeakened(report, "/admin/probe");
        Assert.All(debug.Requests, r => Assert.Contains(r.Headers, h => h.Key == "X-Debug" && h.Value == "1"));
    }

    [Fact]
    public async Task HarmlessChanges_AreListedButNothingIsWeaker()
    {
        var report = await DiffAsync(RouteFiles.Shipped(), j =>
        {
            j["classes"]!["standard"]!["timeoutMs"] = 20000;
            j["rateLimitPolicies"]!["per-user"]!["limit"] = 50;
            j["classes"]!["public"] = new JsonObject { ["tier"] = "standard", ["budgetMs"] = 200, ["auth"] = "anonymous", ["timeoutMs"] = 5000 };
            RouteFiles.AddRoute(j, "docs", "/docs/{**rest}", "public");
        });

        Assert.False(report.HasWeakening);
        Assert.Contains(report.Changes, c => c.Kind == AccessChangeKind.Changed && c.Changes.Any(a => a is { Name: "timeoutMs", Old: "10000", New: "20000" }));
        Assert.Contains(report.Changes, c => c.Kind == AccessChangeKind.Changed && c.Changes.Any(a => a.Name == "rateLimit" && a.New!.Contains("50 per 1 s")));
        // A new public area where nothing was served: exposed (listed with its requirement), not weaker.
        var exposed = Assert.Single(report.Changes, c => c.Kind == AccessChangeKind.Exposed);
        Assert.Equal("docs", exposed.New.RouteId);
        Assert.Equal("anonymous", exposed.New.Access.ToString());
        Assert.Contains(report.Routes, r => r is { Route: "docs", Change: "added" });
    }

    [Fact]
    public async Task SameFile_ReportsNoChangeAtAll()
    {
        var report = await DiffAsync(RouteFiles.Shipped(), _ => { });
        Assert.Empty(report.Changes);
        Assert.Empty(report.Routes);
        // Every route's paths, each with five methods: /orgs/{id} as /orgs/probe, /auth/{**rest} as /auth and /auth/probe.
        Assert.True(report.Probes >= 100, $"only {report.Probes} requests were compared");
    }

    [Fact]
    public async Task RemovedRoute_IsReportedRemoved_NotWeaker()
    {
        var report = await DiffAsync(WithAdminArea(), j => j["routes"]!.AsObject().Remove("admin"));
        Assert.False(report.HasWeakening);
        Assert.Contains(report.Changes, c => c.Kind == AccessChangeKind.Removed && c.Old.RouteId == "admin");
        Assert.Contains(report.Routes, r => r is { Route: "admin", Change: "removed" });
    }

    private static JsonObject WithWebCors(params string[] origins)
    {
        var json = RouteFiles.Shipped();
        json["corsPolicies"] = new JsonObject
        {
            ["web"] = new JsonObject { ["origins"] = new JsonArray([.. origins.Select(o => (JsonNode)o)]), ["methods"] = new JsonArray("GET", "POST"), ["credentials"] = true },
        };
        json["classes"]!["standard"]!["cors"] = "web";
        return json;
    }

    [Fact]
    public async Task CredentialedCorsOriginAdded_IsWeakerOnSessionRoutes_RemovedIsOnlyAChange()
    {
        var widened = await DiffAsync(WithWebCors("https://app.example.com"),
            j => j["corsPolicies"]!["web"]!["origins"]!.AsArray().Add("https://partner.example.net"));
        var orgs = SingleWeakened(widened, "/orgs/probe");
        Assert.Equal("session", orgs.New.Access.ToString());
        Assert.Contains(orgs.Changes, c => c.Name == "cors" && c.New!.Contains("https://partner.example.net"));

        var narrowed = await DiffAsync(WithWebCors("https://app.example.com", "https://partner.example.net"),
            j => j["corsPolicies"]!["web"]!["origins"] = new JsonArray("https://app.example.com"));
        Assert.False(narrowed.HasWeakening);
        Assert.Contains(narrowed.Changes, c => c.Changes.Any(a => a.Name == "cors"));
    }
}
