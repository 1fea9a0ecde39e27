using System.Text.Json.Nodes;
using Gateway.Routing;
using Gateway.Tests.Support;

namespace Gateway.Tests.Routing;

public sealed class RouteClassFileParserTests
{
    private static IReadOnlyList<string> Errors(Action<JsonObject> modify)
    {
        var json = RouteFiles.Shipped();
        modify(json);
        return RouteClassFileParser.Parse(json.ToJsonString(), out _);
    }

    private static void AssertOneError(IReadOnlyList<string> errors, params string[] fragments)
    {
        Assert.Single(errors);
        foreach (var f in fragments) Assert.Contains(f, errors[0]);
    }

    [Fact]
    public void Parse_ShippedFile_IsValidWithTheIssueDefaults()
    {
        var errors = RouteClassFileParser.ParseFile(RouteFiles.ShippedPath, out var snapshot);
        Assert.Empty(errors);
        Assert.NotNull(snapshot);
        Assert.Equal("standard", snapshot.DefaultClass.Name);
        Assert.Equal("ultra-fast", snapshot.Classes["health"].Tier);
        Assert.Equal(AuthKind.Anonymous, snapshot.Classes[snapshot.Routes["auth-login"].Class].Auth);
        Assert.Equal(AuthKind.Anonymous, snapshot.Classes[snapshot.Routes["auth-register"].Class].Auth);
        foreach (var r in new[] { "auth", "users", "authz", "auth-me", "authz-check" })
            Assert.Equal("critical-auth", snapshot.Classes[snapshot.Routes[r].Class].Tier);
        Assert.Equal("standard", snapshot.Classes[snapshot.Routes["audit"].Class].Tier);
        Assert.Equal(new RateLimitPolicyConfig("token-bucket", 100, 1, 200, "user"), snapshot.RateLimitPolicies["per-user"]);
        Assert.Equal(new CachePolicyConfig(30, true), snapshot.CachePolicies["auth-responses"]);
    }

    [Fact]
    public void Parse_APropertyNamedTwiceInOneObject_IsRefusedNamingIt()
    {
        // JSON's last-one-wins: the first of two "timeoutMs" (or of two classes of one name) vanished without a word.
        string json = RouteFiles.Shipped().ToJsonString();
        string twice = json.Replace("\"classes\":{", "\"classes\":{\"standard\":{\"tier\":\"standard\",\"budgetMs\":1,\"auth\":\"anonymous\",\"timeoutMs\":1},", StringComparison.Ordinal);
        Assert.NotEqual(json, twice);
        var errors = RouteClassFileParser.Parse(twice, out var snapshot);
        Assert.Null(snapshot);
        AssertOneError(errors, "standard", "twice", "line 1");
    }

    [Fact]
    public void Parse_UnknownClassReference_NamesRouteAndListsClasses() =>
        AssertOneError(Errors(j => j["routes"]!["orgs"]!["class"] = "standrad"),
            "Route 'orgs' references class 'standrad', which is not defined", "critical-auth, critical-auth-cached");

    [Fact]
    public void Parse_UnknownTier_NamesClassAndValidTiers() =>
        AssertOneError(Errors(j => j["classes"]!["standard"]!["tier"] = "fast"), "Class 'standard' has unknown tier 'fast'", "ultra-fast, critical-auth, standard");

    [Fact]
    public void Parse_NonPositiveBudgetAndTimeout_ReportsBoth()
    {
        var errors = Errors(j => { j["classes"]!["standard"]!["budgetMs"] = 0; j["classes"]!["standard"]!["timeoutMs"] = -5; });
        Assert.Equal(2, errors.Count);
        Assert.Contains(errors, e => e.Contains("Class 'standard' has 'budgetMs' 0") && e.Contains("greater than 0"));
        Assert.Contains(errors, e => e.Contains("Class 'standard' has 'timeoutMs' -5"));
    }

    [Theory]
    [InlineData("/audit/{id:guid}")]
    [InlineData("/audit/{n:int:min(1)}")]
    [InlineData("/audit/{name:alpha}/{**rest}")]
    [InlineData("/audit/{code:regex(^[a-z]{{2}}$)}")]
    public void Parse_RouteConstraintsRoutingResolves_AreAccepted(string path) =>
        Assert.Empty(Errors(j => j["routes"]!["audit"]!["path"] = path));

    [Fact]
    public void Parse_ATimeoutBelowOneMillisecondOrWithAFraction_IsReported_NotCutToZero()
    {
        // 0.5 passed as a positive number and became a zero timeout, which YARP refused without naming the field.
        AssertOneError(Errors(j => j["classes"]!["standard"]!["timeoutMs"] = 0.5), "Class 'standard' has 'timeoutMs' 0.5", "positive integer");
        AssertOneError(Errors(j => j["classes"]!["standard"]!["timeoutMs"] = 1.9), "Class 'standard' has 'timeoutMs' 1.9", "positive integer");
    }

    [Theory]
    [InlineData("cachePolicies", "auth-responses", "ttlSeconds", 1e12)]
    [InlineData("cachePolicies", "auth-responses", "ttlSeconds", 1e-9)]
    [InlineData("rateLimitPolicies", "per-user", "windowSeconds", 1e12)]
    [InlineData("rateLimitPolicies", "per-user", "windowSeconds", 1e-9)]
    public void Parse_ADurationBeyondADayOrBelowAMillisecond_IsReported(string section, string name, string field, double value)
    {
        // 1e12 seconds passed, then TimeSpan.FromSeconds threw on every request of a cached class (a 500 each time).
        var errors = Errors(j => j[section]![name]![field] = value);
        var error = Assert.Single(errors);
        Assert.Contains($"'{field}'", error);
        Assert.Contains("outside 0.001 to 86400 seconds", error);
    }

    [Fact]
    public void Parse_BadAuth_ListsAllowedValues() =>
        AssertOneError(Errors(j => j["classes"]!["standard"]!["auth"] = "role:god"), "Class 'standard' has invalid auth 'role:god'", "'role:owner'");

    [Fact]
    public void Parse_UnknownClusterAndPolicies_AreEachReported()
    {
        var errors = Errors(j =>
        {
            j["routes"]!["audit"]!["cluster"] = "backnd";
            j["classes"]!["standard"]!["rateLimit"] = "per-usr";
            j["classes"]!["standard"]!["cache"] = "nope";
            j["classes"]!["standard"]!["failMode"] = "open";
        });
        Assert.Equal(4, errors.Count);
        Assert.Contains(errors, e => e.Contains("Route 'audit' references cluster 'backnd'") && e.Contains("backend"));
        Assert.Contains(errors, e => e.Contains("references rate-limit policy 'per-usr'") && e.Contains("login, per-user"));
        Assert.Contains(errors, e => e.Contains("references cache policy 'nope'"));
        Assert.Contains(errors, e => e.Contains("unknown failMode 'open'"));
    }

    [Fact]
    public void Parse_DuplicatePath_NamesBothRoutes() =>
        AssertOneError(Errors(j => RouteFiles.AddRoute(j, "audit-2", "/audit/{**all}", "standard")),
            "Route 'audit-2' duplicates the path '/audit/{**all}' of route 'audit'");

    [Fact]
    public void Parse_SamePathDifferentMethods_IsAllowed() =>
        Assert.Empty(Errors(j => RouteFiles.AddRoute(j, "login-get", "/auth/login", "auth-anonymous", "GET")));

    [Theory]
    [InlineData("audit/{**rest}", "does not start with '/'")]
    [InlineData("/audit/{**rest}/x", "malformed path")]
    [InlineData("/audit/{id", "malformed path")]
    [InlineData("/audit?x=1", "query, fragment or whitespace")]
    [InlineData("/internal/{**rest}", "never proxies /internal")]
    [InlineData("/health", "answers itself")]
    [InlineData("/gateway/{**rest}", "keeps for its operator endpoints")]
    [InlineData("/Gateway/reports", "keeps for its operator endpoints")]
    [InlineData("/metrics", "keeps for its operator endpoints")]
    [InlineData("/audit/{id:guidd}", "parameter 'id' has constraint 'guidd', which routing cannot use")]
    [InlineData("/audit/{n:min(abc)}", "parameter 'n' has constraint 'min(abc)', which routing cannot use")]
    [InlineData("/audit/{n:regex([)}", "parameter 'n' has constraint 'regex([)', which routing cannot use")]
    public void Parse_MalformedOrForbiddenPath_IsReported(string path, string fragment)
    {
        var errors = Errors(j => j["routes"]!["audit"]!["path"] = path);
        Assert.Contains(errors, e => e.Contains("Route 'audit'") && e.Contains(fragment));
    }

    [Fact]
    public void Parse_UnknownDefaultClass_IsReported() =>
        AssertOneError(Errors(j => j["defaultClass"] = "std"), "'defaultClass' is 'std', which is not defined");

    [Fact]
    public void Parse_InvalidJson_ReportsLineAndPosition()
    {
        var errors = RouteClassFileParser.Parse("{\n  \"version\": \"x\",\n  \"classes\": { ,\n}", out var snapshot);
        Assert.Null(snapshot);
        string error = Assert.Single(errors);
        Assert.Contains("line 3, position 16", error);
        // One position, 1-based: not the parser's own 0-based "LineNumber: 2 | BytePositionInLine: 16" beside it.
        Assert.DoesNotContain("LineNumber", error);
        Assert.DoesNotContain("BytePositionInLine", error);
    }

    [Fact]
    public void ParseFile_MissingFile_NamesThePathAndTheSettingInOneCleanSentence()
    {
        string path = Path.Combine(Path.GetTempPath(), $"no-such-{Guid.NewGuid():N}.json");
        string error = Assert.Single(RouteClassFileParser.ParseFile(path, out var snapshot));
        Assert.Null(snapshot);
        Assert.Contains(path, error);
        Assert.Contains("RouteClasses:Path", error);
        Assert.DoesNotContain("..", error.Replace(path, ""));
    }

    [Fact]
    public void ConfigException_CountsErrorsInGoodEnglish()
    {
        Assert.Contains("(1 error)", new RouteClassConfigException("f.json", ["a"]).Message);
        Assert.Contains("(2 errors)", new RouteClassConfigException("f.json", ["a", "b"]).Message);
    }

    [Fact]
    public void Parse_MissingSections_NamesEach()
    {
        var errors = RouteClassFileParser.Parse("{\"version\":\"1\",\"defaultClass\":\"a\"}", out _);
        Assert.Contains(errors, e => e.Contains("section 'classes' is missing"));
        Assert.Contains(errors, e => e.Contains("section 'routes' is missing"));
        Assert.Contains(errors, e => e.Contains("section 'clusters' is missing"));
    }

    [Fact]
    public void Parse_UnknownProperty_CatchesTypos() =>
        AssertOneError(Errors(j => j["classes"]!["standard"]!["budgetMS"] = 5), "Class 'standard' has unknown property 'budgetMS'", "budgetMs");

    [Fact]
    public void Parse_RemovingBuiltInIdentityHeaders_IsRejected() =>
        AssertOneError(Errors(j => j["identityHeaders"]!["builtIn"] = new JsonArray()), "cannot be removed or replaced");

    [Fact]
    public void Parse_BadRateLimitAndCachePolicies_AreReported()
    {
        var errors = Errors(j =>
        {
            j["rateLimitPolicies"]!["login"]!["algorithm"] = "leaky";
            j["rateLimitPolicies"]!["login"]!["partition"] = "planet";
            j["rateLimitPolicies"]!["per-user"]!["limit"] = 0;
            j["cachePolicies"]!["auth-responses"]!["ttlSeconds"] = -1;
        });
        Assert.Equal(4, errors.Count);
        Assert.Contains(errors, e => e.Contains("Rate-limit policy 'login' has unknown algorithm 'leaky'"));
        Assert.Contains(errors, e => e.Contains("Rate-limit policy 'login' has unknown partition 'planet'"));
        Assert.Contains(errors, e => e.Contains("Rate-limit policy 'per-user' has 'limit' 0"));
        Assert.Contains(errors, e => e.Contains("Cache policy 'auth-responses' has 'ttlSeconds' -1"));
    }

    [Fact]
    public void Parse_ManyProblems_AreAllCollectedAtOnce()
    {
        var errors = Errors(j =>
        {
            j["defaultClass"] = "x";
            j["classes"]!["health"]!["tier"] = "warp";
            j["routes"]!["users"]!["class"] = "y";
            j["clusters"]!["backend"]!["address"] = "not a url";
        });
        Assert.Equal(4, errors.Count);
    }
}
