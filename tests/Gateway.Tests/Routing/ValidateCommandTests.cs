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
}
