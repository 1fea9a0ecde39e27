using System.Text.Json.Nodes;
using Gateway.Identity;
using Gateway.Routing;
using Gateway.Tests.Support;

namespace Gateway.Tests.Routing;

/// <summary>
/// Names and values the file accepted and the gateway then could not use: a name it cannot send in a header (every
/// request of the class a 500), two names the proxy reads as one (the new route table refused after the file was
/// accepted), identity headers the gateway needs itself, and limits whose device share overflowed.
/// </summary>
public sealed class ConfigNameTests
{
    private static IReadOnlyList<string> Errors(Action<JsonObject> modify)
    {
        var json = RouteFiles.Shipped();
        modify(json);
        return RouteClassFileParser.Parse(json.ToJsonString(), out _);
    }

    [Theory]
    [InlineData("critical\u2013auth")]   // an en dash pasted from a wiki
    [InlineData("critical auth")]
    [InlineData("-leading-dash")]
    [InlineData("tab\there")]
    public void AClassNameTheGatewayCannotSendInAHeader_IsRefused(string name)
    {
        var errors = Errors(j =>
        {
            j["classes"]![name] = j["classes"]!["standard"]!.DeepClone();
            j["routes"]!["orgs"]!["class"] = name;
        });
        Assert.Contains(errors, e => e.Contains($"Class '{name}'") && e.Contains("cannot send in a header"));
    }

    [Fact]
    public void ANameOverSixtyFourCharacters_IsRefused()
    {
        string name = new('r', 65);
        var errors = Errors(j => RouteFiles.AddRoute(j, name, "/long/{**rest}", "standard"));
        Assert.Contains(errors, e => e.Contains($"Route '{name}'") && e.Contains("at most 64"));
    }

    [Theory]
    [InlineData("routes", "Route")]
    [InlineData("classes", "Class")]
    [InlineData("rateLimitPolicies", "Rate-limit policy")]
    [InlineData("cachePolicies", "Cache policy")]
    [InlineData("clusters", "Cluster")]
    public void TwoNamesOfASectionThatDifferOnlyInCase_AreRefused(string section, string kind)
    {
        var errors = Errors(j =>
        {
            var entries = j[section]!.AsObject();
            var (name, value) = entries.First(e => e.Value is JsonObject);
            string other = char.ToUpperInvariant(name[0]) + name[1..];
            var copy = value!.DeepClone();
            if (section == "routes") copy["path"] = "/another-path/{**rest}";
            entries[other] = copy;
        });
        Assert.Contains(errors, e => e.StartsWith($"{kind} '", StringComparison.Ordinal) && e.Contains("differ only in letter case"));
    }

    [Fact]
    public void ShippedFile_KeepsWithinTheNameRules()
    {
        Assert.Empty(RouteClassFileParser.ParseFile(RouteFiles.ShippedPath, out _));
        foreach (var section in new[] { "classes", "routes", "clusters", "rateLimitPolicies", "cachePolicies" })
            foreach (var (name, _) in RouteFiles.Shipped()[section]!.AsObject())
                Assert.True(Gateway.Routing.Validation.ConfigJson.IsName(name), name);
    }

    [Theory]
    [InlineData("Authorization")]
    [InlineData("cookie")]
    [InlineData("Origin")]
    [InlineData("host")]
    [InlineData("X_Request_Id")]
    public void AnIdentityHeaderTheGatewayReadsItself_IsRefusedInTheFile(string header)
    {
        var errors = Errors(j => j["identityHeaders"] = new JsonObject { ["additional"] = new JsonArray(header) });
        Assert.Contains(errors, e => e.Contains($"'{header}'") && e.Contains("reads itself"));
    }

    [Fact]
    public void AnIdentityHeaderTheGatewayReadsItself_IsRefusedInTheSettings()
    {
        var result = new IdentityHeaderOptionsValidator().Validate(null, new IdentityHeaderOptions { Additional = ["X-Tenant-Id", "Authorization"] });
        Assert.True(result.Failed);
        Assert.Contains("IdentityHeaders:Additional:1 'Authorization'", result.FailureMessage);
        Assert.True(new IdentityHeaderOptionsValidator().Validate(null, new IdentityHeaderOptions { Additional = ["X-Tenant-Id"] }).Succeeded);
    }

    [Theory]
    [InlineData("limit", 500_000_000)]
    [InlineData("burst", 500_000_000)]
    public void ALimitWhoseDeviceShareWouldOverflow_IsRefused(string field, long value)
    {
        // Five times the login policy's limit (its device holders' share) went negative past 429,496,729: the account's
        // own device-token holders were refused while strangers were not.
        var errors = Errors(j => j["rateLimitPolicies"]!["per-user"]![field] = value);
        Assert.Contains(errors, e => e.Contains("Rate-limit policy 'per-user'") && e.Contains($"'{field}'") && e.Contains("100,000,000"));
    }

    [Fact]
    public void ALimitOfAHundredMillion_IsAccepted() =>
        Assert.Empty(Errors(j => { j["rateLimitPolicies"]!["per-user"]!["limit"] = 100_000_000; j["rateLimitPolicies"]!["per-user"]!["burst"] = 100_000_000; }));
}
