using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Routing;
using Gateway.Tests.Support;

namespace Gateway.Tests.Routing.Diff;

/// <summary><c>gateway validate --diff OLD NEW [--json]</c>: exit codes and what an operator reads.</summary>
public sealed class ValidateDiffCommandTests
{
    private static string Write(JsonObject json) => RouteFiles.WriteTemp(json.ToJsonString());

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = ValidateCommand.Run(["validate", "--diff", .. args], stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static string Weakened()
    {
        var json = ConfigDiffTests.WithAdminArea();
        json["version"] = "lowered";
        json["classes"]!["admin"]!["auth"] = "anonymous";
        return Write(json);
    }

    [Fact]
    public void NoWeakening_ExitsZero()
    {
        var json = RouteFiles.Shipped();
        json["classes"]!["standard"]!["timeoutMs"] = 20000;
        var (code, output, _) = Run(RouteFiles.ShippedPath, Write(json));

        Assert.Equal(ValidateCommand.Ok, code);
        Assert.Contains("CHANGED", output);
        Assert.Contains("timeoutMs: 10000 → 20000", output);
        Assert.Contains("No access got weaker.", output);
    }

    [Fact]
    public void Weakening_ExitsTwo_AndNamesTheRouteTheRequirementsAndSampleRequests()
    {
        var (code, output, _) = Run(Write(ConfigDiffTests.WithAdminArea()), Weakened());

        Assert.Equal(ValidateCommand.Weaker, code);
        Assert.Contains("WEAKER  role:admin (route 'admin', class 'admin') → anonymous (route 'admin', class 'admin') for DELETE /admin, GET /admin, PATCH /admin, POST /admin (+", output);
        Assert.Contains("exit code 2", output);
    }

    [Fact]
    public void Json_IsOneDocumentWithTheWeakenedRequests()
    {
        var (code, output, _) = Run(Write(ConfigDiffTests.WithAdminArea()), Weakened(), "--json");

        Assert.Equal(ValidateCommand.Weaker, code);
        using var doc = JsonDocument.Parse(output);
        Assert.True(doc.RootElement.GetProperty("weaker").GetBoolean());
        Assert.Equal("lowered", doc.RootElement.GetProperty("newVersion").GetString());
        var first = doc.RootElement.GetProperty("changes")[0];
        Assert.Equal("weaker", first.GetProperty("kind").GetString());
        Assert.Equal("role:admin", first.GetProperty("old").GetProperty("auth").GetString());
        Assert.Equal("anonymous", first.GetProperty("new").GetProperty("auth").GetString());
        Assert.Contains(first.GetProperty("requests").EnumerateArray(), r => r.GetProperty("path").GetString() == "/admin/probe");
    }

    [Fact]
    public void InvalidNewFile_ExitsOne_WithItsErrors_AndBothFilesAreChecked()
    {
        var broken = RouteFiles.Shipped();
        broken["defaultClass"] = "nope";
        var (code, output, errors) = Run("/nonexistent/old.json", Write(broken));

        Assert.Equal(ValidateCommand.Invalid, code);
        Assert.Contains("/nonexistent/old.json", errors);
        Assert.Contains("'nope'", errors);
        Assert.Equal("", output);
    }

    [Fact]
    public void WrongArguments_PrintUsage_AndExitOne()
    {
        var (code, _, errors) = Run(RouteFiles.ShippedPath);
        Assert.Equal(ValidateCommand.Invalid, code);
        Assert.Contains("validate --diff <old.json> <new.json> [--json]", errors);
    }
}
