using System.Text.Json.Nodes;
using Gateway.Routing;
using Gateway.Tests.Support;

namespace Gateway.Tests.Routing;

public sealed class ValidateCommandTests
{
    [Fact]
    public void Validate_ValidFile_PrintsSummaryAndExitsZero()
    {
        var stdout = new StringWriter();
        int code = ValidateCommand.Run(["validate", RouteFiles.ShippedPath], stdout, new StringWriter());
        Assert.Equal(0, code);
        Assert.Matches(@"^OK: \d+ classes, \d+ routes \(version 2026-11-22\.1\)", stdout.ToString());
    }

    [Fact]
    public void Validate_InvalidFile_PrintsEveryErrorAndExitsOne()
    {
        string path = RouteFiles.CreateTemp(j => { j["defaultClass"] = "nope"; j["routes"]!["audit"]!["class"] = "gone"; });
        var stderr = new StringWriter();
        int code = ValidateCommand.Run(["validate", path], new StringWriter(), stderr);
        Assert.Equal(1, code);
        Assert.Contains("2 error(s)", stderr.ToString());
        Assert.Contains("'nope'", stderr.ToString());
        Assert.Contains("'gone'", stderr.ToString());
    }

    [Fact]
    public void Validate_MissingFile_ExitsOne() =>
        Assert.Equal(1, ValidateCommand.Run(["validate", "/nonexistent/route-classes.json"], new StringWriter(), new StringWriter()));

    [Fact]
    public void Startup_InvalidFile_ThrowsWithEveryError()
    {
        string path = RouteFiles.CreateTemp(j => j["defaultClass"] = "nope");
        var ex = Assert.Throws<RouteClassConfigException>(() => GatewayApp.CreateBuilder(
            ["--Backend:BaseUrl=http://127.0.0.1:1", $"--RouteClasses:Path={path}"]));
        Assert.Contains(ex.Errors, e => e.Contains("'nope'"));
    }

    private static string MatchingOnTenantHeader() => RouteFiles.CreateTemp(j => j["routes"]!["shop"] = JsonNode.Parse("""
        { "path": "/shop/{**rest}", "class": "standard", "cluster": "backend", "headers": [{ "name": "X-Tenant-Id", "values": ["a"] }] }
        """));

    [Fact]
    public void Validate_ChecksRoutesAgainstTheSettingsIdentityHeaders()
    {
        string path = MatchingOnTenantHeader();
        Assert.Equal(0, ValidateCommand.Run(["validate", path], new StringWriter(), new StringWriter(), []));

        var stderr = new StringWriter();
        Assert.Equal(1, ValidateCommand.Run(["validate", path], new StringWriter(), stderr, ["X-Tenant-Id"]));
        Assert.Contains("matches on header 'X-Tenant-Id', an identity header the gateway removes", stderr.ToString());
    }

    [Fact]
    public void Validate_WarnsOfClustersTheSettingsHaveNoSigningKeyFor_ButStillSaysTheFileIsValid()
    {
        // Start-up refuses such a file; validate said OK without a word. A warning, since validation often runs where
        // the production secrets are not.
        string path = RouteFiles.CreateTemp(j => j["clusters"]!["reports"] = new JsonObject { ["address"] = "http://127.0.0.1:9" });
        var stderr = new StringWriter();
        Assert.Equal(0, ValidateCommand.Run(["validate", path], new StringWriter(), stderr, [], ["backend"]));
        Assert.Contains("WARNING", stderr.ToString());
        Assert.Contains("'reports'", stderr.ToString());
        Assert.DoesNotContain("'backend'", stderr.ToString());

        stderr = new StringWriter();
        Assert.Equal(0, ValidateCommand.Run(["validate", path], new StringWriter(), stderr, [], ["backend", "reports"]));
        Assert.Equal("", stderr.ToString());
    }

    [Fact]
    public void Startup_RouteMatchingOnAHeaderTheSettingsStrip_ThrowsNamingIt()
    {
        string path = MatchingOnTenantHeader();
        var ex = Assert.Throws<RouteClassConfigException>(() => GatewayApp.CreateBuilder(
            ["--Backend:BaseUrl=http://127.0.0.1:1", $"--RouteClasses:Path={path}", "--IdentityHeaders:Additional:0=x-tenant-id"]));
        Assert.Contains(ex.Errors, e => e.Contains("matches on header 'X-Tenant-Id', an identity header"));
    }
}
