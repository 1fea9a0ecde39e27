using System.Text.RegularExpressions;
using Gateway.Tests.Support;
using Gateway.Trust;
using TestInfrastructure;

namespace Gateway.Tests.Identity;

/// <summary>Issue 14, part 6: the gateway refuses to run outside Development on a secret from the repository.</summary>
public sealed class StartupSecretTests
{
    private static string Shipped(string pattern) =>
        Regex.Match(File.ReadAllText(RepoPaths.Combine("appsettings.json")), pattern).Groups[1].Value;

    private static async Task<string?> StartupErrorAsync(string environment, params string[] extraArgs) =>
        (await GatewayStartup.FailureAsync(environment, extraArgs))?.ToString();

    [Fact]
    public async Task RepositorySecretsOutsideDevelopment_FailTheStartNamingEverySettingAndHowToSetIt()
    {
        // No trust arguments: the shipped appsettings.json (copied next to the binary) supplies the repository's values.
        string? error = await StartupErrorAsync("Production");
        Assert.NotNull(error);
        Assert.Contains("Trust:InternalSecret is a development secret from the repository", error);
        Assert.Contains("Set Trust__InternalSecret from your secret store", error);
        Assert.Contains("Signing:Clusters:backend:Keys:0:Secret (key 'dev-1') is a development secret from the repository", error);
        Assert.Contains("Set Signing__Clusters__backend__Keys__0__Secret", error);
    }

    [Fact]
    public async Task RepositorySecretsInDevelopment_Start() =>
        Assert.Null(await StartupErrorAsync("Development"));

    [Fact]
    public async Task GatewayProcess_InProductionWithTheShippedSettings_ExitsNonZeroWithTheFixes()
    {
        var (exitCode, output) = await ProductionProcess.RunToExitAsync("gateway.dll",
            $"--urls=http://127.0.0.1:{FreePort.Next()}", $"--RouteClasses:Path={RouteFiles.CreateTemp()}");

        Assert.Equal(1, exitCode);
        Assert.Contains("The gateway refuses to start", output);
        Assert.Contains("Trust:InternalSecret is a development secret from the repository", output);
        Assert.Contains("Signing:Clusters:backend:Keys:0:Secret (key 'dev-1') is a development secret from the repository", output);
    }

    [Fact]
    public async Task GatewayProcess_WithProductionAndALeftoverDevelopmentVariable_RefusesToStartInsteadOfRunningAsDevelopment()
    {
        // .NET lets DOTNET_ENVIRONMENT win: before the check this pair ran the gateway as Development, accepting the
        // shipped repository secrets (it started and served, so this test ran into its one-minute timeout).
        var (exitCode, output) = await ProductionProcess.RunToExitAsync("gateway.dll",
            new Dictionary<string, string> { ["ASPNETCORE_ENVIRONMENT"] = "Production", ["DOTNET_ENVIRONMENT"] = "Development" },
            $"--urls=http://127.0.0.1:{FreePort.Next()}", $"--Admin:Url=http://127.0.0.1:{FreePort.Next()}", $"--RouteClasses:Path={RouteFiles.CreateTemp()}");

        Assert.Equal(1, exitCode);
        Assert.Contains("The gateway refuses to start", output);
        Assert.Contains("ASPNETCORE_ENVIRONMENT is 'Production' but DOTNET_ENVIRONMENT is 'Development'", output);
    }

    [Fact]
    public async Task SigningSecretEqualToTheInternalSecret_FailsTheStart()
    {
        string secret = GatewaySecrets.Generate();
        string? error = await StartupErrorAsync("Production", $"--Trust:InternalSecret={secret}",
            "--Signing:Clusters:backend:Keys:0:Id=k1", $"--Signing:Clusters:backend:Keys:0:Secret={secret}");
        Assert.Contains("Signing:Clusters:backend:Keys:0:Secret equals Trust:InternalSecret", error);
    }

    [Fact]
    public async Task ClusterOfTheRouteFileWithoutAKey_FailsTheStartNamingTheCluster()
    {
        string routes = RouteFiles.CreateTemp(j =>
        {
            j["clusters"]!["orders"] = new System.Text.Json.Nodes.JsonObject { ["address"] = "" };
            RouteFiles.AddRoute(j, "orders", "/orders/{**rest}", "standard");
            j["routes"]!["orders"]!["cluster"] = "orders";
        });
        string? error = await StartupErrorAsync("Production", [.. GatewayInstance.TrustArgs, $"--RouteClasses:Path={routes}"]);
        Assert.Contains("Signing:Clusters:orders:Keys is empty, but the route-class file has cluster 'orders'", error);
    }

    [Fact]
    public async Task OneSecretForTwoClusters_FailsTheStart()
    {
        string routes = RouteFiles.CreateTemp(j => j["clusters"]!["orders"] = new System.Text.Json.Nodes.JsonObject { ["address"] = "" });
        string? error = await StartupErrorAsync("Production", [.. GatewayInstance.TrustArgs, $"--RouteClasses:Path={routes}",
            "--Signing:Clusters:orders:Keys:0:Id=o1", $"--Signing:Clusters:orders:Keys:0:Secret={GatewayInstance.SigningSecret}"]);
        Assert.Contains("is also a key of cluster", error);
    }

    [Fact]
    public async Task LegacySharedSecret_FailsTheStartPointingToTheSettingsThatReplaceIt()
    {
        string? error = await StartupErrorAsync("Production", [.. GatewayInstance.TrustArgs, $"--Trust:SharedSecret={GatewaySecrets.Generate()}"]);
        Assert.Contains("Trust:SharedSecret is no longer read", error);
    }
}
