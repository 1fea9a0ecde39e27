using System.Text.Json.Nodes;
using Gateway.Routing;
using Gateway.Tests.Support;

namespace Gateway.Tests.Routing;

/// <summary>The route file's browser parts: 'corsPolicies', a class's 'cors' and a route's 'sessionCookie'.</summary>
public sealed class BrowserRouteFileTests
{
    private static JsonObject Web(params (string Key, JsonNode? Value)[] overrides)
    {
        var policy = new JsonObject
        {
            ["origins"] = new JsonArray("https://app.example.com", "http://localhost:5173"),
            ["methods"] = new JsonArray("GET", "POST", "DELETE"),
            ["headers"] = new JsonArray("Content-Type", "X-Select-Org"),
            ["exposeHeaders"] = new JsonArray("X-Request-Id"),
            ["credentials"] = true,
            ["maxAgeSeconds"] = 600,
        };
        foreach (var (key, value) in overrides) policy[key] = value;
        return policy;
    }

    private static IReadOnlyList<string> Parse(JsonObject policy, out RouteClassSnapshot? snapshot, Action<JsonObject>? modify = null)
    {
        var json = RouteFiles.Shipped();
        json["corsPolicies"] = new JsonObject { ["web"] = policy };
        json["classes"]!["standard"]!["cors"] = "web";
        modify?.Invoke(json);
        return RouteClassFileParser.Parse(json.ToJsonString(), out snapshot);
    }

    private static string OneError(JsonObject policy, Action<JsonObject>? modify = null)
    {
        var errors = Parse(policy, out var snapshot, modify);
        Assert.Null(snapshot);   // refused as a whole: never half-loaded
        return Assert.Single(errors);
    }

    [Fact]
    public void AValidPolicy_IsResolvedOntoItsClass_AndMarksOnlyThatClassesYarpRoutesForPreflight()
    {
        Assert.Empty(Parse(Web(), out var snapshot));

        var cors = snapshot!.Classes["standard"].Cors;
        Assert.NotNull(cors);
        Assert.Same(snapshot.CorsPolicies["web"], cors);
        Assert.True(cors.AllowsOrigin("https://app.example.com"));
        Assert.False(cors.AllowsOrigin("https://evil.example.com"));
        Assert.True(cors.TrustsForCookies("http://localhost:5173"));
        Assert.True(cors.AllowsMethod("DELETE"));
        Assert.False(cors.AllowsMethod("PUT"));
        Assert.Equal("GET, POST, DELETE", cors.AllowMethodsValue.ToString());
        Assert.Equal("600", cors.MaxAgeValue.ToString());
        Assert.Null(snapshot.Classes["critical-auth"].Cors);

        var yarp = ProxyConfigBuilder.Routes(snapshot).ToDictionary(r => r.RouteId);
        Assert.Equal("default", yarp["orgs"].CorsPolicy);    // class 'standard'
        Assert.Null(yarp["users"].CorsPolicy);               // class 'critical-auth', no policy
    }

    [Fact]
    public void ShippedFile_MarksLoginToIssueAndLogoutsToClearTheCookie()
    {
        Assert.Empty(RouteClassFileParser.ParseFile(RouteFiles.ShippedPath, out var snapshot));
        Assert.Equal(RouteDefinition.CookieIssue, snapshot!.Routes["auth-login"].SessionCookie);
        Assert.Equal(RouteDefinition.CookieClear, snapshot.Routes["auth-logout"].SessionCookie);
        Assert.Equal(RouteDefinition.CookieClear, snapshot.Routes["auth-logout-all"].SessionCookie);
        Assert.Null(snapshot.Routes["auth-register"].SessionCookie);
        var login = ProxyConfigBuilder.Routes(snapshot).Single(r => r.RouteId == "auth-login");
        Assert.Equal("issue", login.Metadata![ProxyConfigBuilder.SessionCookieKey]);
    }

    [Fact]
    public void UnknownPolicyName_NamesTheClassAndTheDefinedPolicies() =>
        Assert.Contains("Class 'standard' references CORS policy 'wbe', which is not defined. Define it under 'corsPolicies' or use one of: web.",
            OneError(Web(), j => j["classes"]!["standard"]!["cors"] = "wbe"));

    [Fact]
    public void WildcardOriginWithCredentials_IsRefused() =>
        Assert.Contains("CORS policy 'web' allows origin '*' with credentials", OneError(Web(("origins", new JsonArray("*")))));

    [Fact]
    public void WildcardOriginWithoutCredentials_IsAPublicPolicy()
    {
        Assert.Empty(Parse(Web(("origins", new JsonArray("*")), ("credentials", false)), out var snapshot));
        Assert.True(snapshot!.CorsPolicies["web"].AllowsOrigin("https://anyone.example"));
        Assert.False(snapshot.CorsPolicies["web"].TrustsForCookies("https://anyone.example"));
    }

    [Theory]
    [InlineData("https://app.example.com/", "use 'https://app.example.com'")]
    [InlineData("https://app.example.com/login", "use 'https://app.example.com'")]
    [InlineData("https://App.Example.com", "Use 'https://app.example.com'")]
    [InlineData("https://app.example.com:443", "Use 'https://app.example.com'")]
    [InlineData("app.example.com", "is not an http(s) origin")]
    [InlineData("ftp://app.example.com", "is not an http(s) origin")]
    public void AnOriginABrowserWouldNeverSend_IsRefusedWithTheSpellingToUse(string origin, string fix) =>
        Assert.Contains(fix, OneError(Web(("origins", new JsonArray(origin)))));

    [Fact]
    public void EveryMistakeOfAPolicy_IsReportedAtOnce()
    {
        var errors = Parse(Web(("origins", new JsonArray()), ("methods", new JsonArray("FETCH")), ("headers", new JsonArray("*")),
            ("exposeHeaders", new JsonArray("X Bad")), ("maxAgeSeconds", 999999), ("credentials", "yes"), ("allowAll", true)), out var snapshot);
        Assert.Null(snapshot);
        Assert.Contains(errors, e => e.Contains("CORS policy 'web' has an empty 'origins'"));
        Assert.Contains(errors, e => e.Contains("unknown method 'FETCH'"));
        Assert.Contains(errors, e => e.Contains("'maxAgeSeconds' 999999"));
        Assert.Contains(errors, e => e.Contains("'credentials' \"yes\", which is not a boolean"));
        Assert.Contains(errors, e => e.Contains("'X Bad' in 'exposeHeaders'"));
        Assert.Contains(errors, e => e.Contains("unknown property 'allowAll'"));
    }

    [Fact]
    public void WildcardHeadersWithCredentials_IsRefused() =>
        Assert.Contains("allows request headers '*' with credentials", OneError(Web(("headers", new JsonArray("*")))));

    [Fact]
    public void SessionCookie_OnARouteMatchingSafeMethods_IsRefused()
    {
        Assert.Contains("Route 'auth-me' has sessionCookie 'issue' but matches a safe method",
            OneError(Web(), j => j["routes"]!["auth-me"]!["sessionCookie"] = "issue"));
        Assert.Contains("Route 'users' has sessionCookie 'clear' but matches every method",
            OneError(Web(), j => j["routes"]!["users"]!["sessionCookie"] = "clear"));
        Assert.Contains("Route 'auth-login' has unknown sessionCookie 'set'",
            OneError(Web(), j => j["routes"]!["auth-login"]!["sessionCookie"] = "set"));
    }

    /// <summary><c>evictsSessions</c> is a boolean, and only on routes limited to unsafe methods (on a read route every
    /// request would cost its user's sessions an L1 miss).</summary>
    [Theory]
    [InlineData("evictsSessions")]
    [InlineData("evictsCache")]   // on a read route every request would empty its caller's cached responses
    public void EvictsSessionsOrCache_OnARouteMatchingSafeMethods_OrNotABoolean_IsRefused(string flag)
    {
        Assert.Contains($"Route 'auth-me' has '{flag}' but matches a safe method",
            OneError(Web(), j => j["routes"]!["auth-me"]![flag] = true));
        Assert.Contains($"Route 'users' has '{flag}' but matches every method",
            OneError(Web(), j => j["routes"]!["users"]![flag] = true));
        Assert.Contains($"Route 'auth-login' has '{flag}' \"yes\". Use true or false.",
            OneError(Web(), j => j["routes"]!["auth-login"]![flag] = "yes"));
        Assert.Empty(Parse(Web(), out _, j => j["routes"]!["users"]![flag] = false));
        Assert.Empty(Parse(Web(), out _, j => j["routes"]!["auth-login"]![flag] = true));
    }
}
