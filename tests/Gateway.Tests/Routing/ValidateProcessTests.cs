using System.Diagnostics;
using Gateway.Tests.Support;

namespace Gateway.Tests.Routing;

/// <summary>The real executable: <c>dotnet gateway.dll validate ...</c> and a start-up with an invalid file.</summary>
public sealed class ValidateProcessTests
{
    private static Task<(int Code, string Output)> RunGateway(params string[] args) => RunGateway(new Dictionary<string, string>(), args);

    private static async Task<(int Code, string Output)> RunGateway(Dictionary<string, string> environment, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (name, value) in environment) psi.Environment[name] = value;
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "gateway.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(cts.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    [Fact]
    public async Task ValidateCommand_ValidFile_ExitsZero()
    {
        var (code, output) = await RunGateway("validate", RouteFiles.ShippedPath);
        Assert.Equal(0, code);
        Assert.StartsWith("OK: ", output);
    }

    [Fact]
    public async Task ValidateCommand_InvalidFile_ExitsOneWithEveryError()
    {
        string path = RouteFiles.CreateTemp(j => { j["defaultClass"] = "nope"; j["classes"]!["standard"]!["tier"] = "warp"; });
        var (code, output) = await RunGateway("validate", path);
        Assert.Equal(1, code);
        Assert.Contains("'nope'", output);
        Assert.Contains("'warp'", output);
    }

    [Fact]
    public async Task ValidateCommand_ReadsIdentityHeadersFromTheSettingsTheGatewayWouldStartWith()
    {
        string path = RouteFiles.CreateTemp(j => j["routes"]!["shop"] = System.Text.Json.Nodes.JsonNode.Parse("""
            { "path": "/shop/{**rest}", "class": "standard", "cluster": "backend", "headers": [{ "name": "X-Tenant-Id", "values": ["a"] }] }
            """));
        var (code, output) = await RunGateway(new Dictionary<string, string> { ["IdentityHeaders__Additional__0"] = "X-Tenant-Id" }, "validate", path);
        Assert.Equal(1, code);
        Assert.Contains("matches on header 'X-Tenant-Id', an identity header the gateway removes", output);
    }

    [Fact]
    public async Task ValidateDiff_WeakerFile_ExitsTwoThroughTheRealExecutable()
    {
        string weaker = RouteFiles.CreateTemp(j => j["classes"]!["standard"]!["auth"] = "anonymous");
        var (code, output) = await RunGateway("validate", "--diff", RouteFiles.ShippedPath, weaker);
        Assert.Equal(2, code);
        Assert.Contains("WEAKER  session (route 'orgs', class 'standard') → anonymous", output);
    }

    [Fact]
    public async Task Startup_InvalidFile_ExitsNonZeroWithTheErrors()
    {
        string path = RouteFiles.CreateTemp(j => j["routes"]!["audit"]!["class"] = "standrad");
        var (code, output) = await RunGateway($"--RouteClasses:Path={path}", "--urls=http://127.0.0.1:0");
        Assert.NotEqual(0, code);
        Assert.Contains("Route 'audit' references class 'standrad'", output);
    }
}
