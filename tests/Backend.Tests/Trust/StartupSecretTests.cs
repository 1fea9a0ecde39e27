using System.Text.RegularExpressions;
using Backend.Tests.Support;
using Gateway.Trust;
using TestInfrastructure;

namespace Backend.Tests.Trust;

/// <summary>Issue 14, part 6: the backend refuses to run outside Development on a secret from the repository.</summary>
public sealed class StartupSecretTests(PostgresFixture postgres, RedisFixture redis)
{
    private static string Shipped(string pattern) =>
        Regex.Match(File.ReadAllText(RepoPaths.Combine("appsettings.json")), pattern).Groups[1].Value;

    private static readonly string RepositoryInternalSecret = Shipped("\"InternalSecret\":\\s*\"([^\"]+)\"");
    private static readonly string RepositorySigningSecret = Shipped("\"SigningKeys\":\\s*\\[\\s*\\{[^}]*\"secret\":\\s*\"([^\"]+)\"");

    private async Task<string> StartupErrorAsync(Dictionary<string, string?> settings)
    {
        await using var app = new BackendApp(await postgres.CreateDatabaseAsync("b"), redis.ConnectionString, settings);
        return Assert.ThrowsAny<Exception>(() => app.CreateClient()).ToString();
    }

    [Fact]
    public async Task RepositorySecretsOutsideDevelopment_FailTheStartNamingEachSettingAndHowToSetIt()
    {
        Assert.StartsWith(GatewaySecrets.DevelopmentMarker, RepositoryInternalSecret);
        Assert.StartsWith(GatewaySecrets.DevelopmentMarker, RepositorySigningSecret);
        string error = await StartupErrorAsync(new()
        {
            ["environment"] = "Production",
            ["Trust:InternalSecret"] = RepositoryInternalSecret,
            ["Trust:SigningKeys:0:Id"] = "dev-1",
            ["Trust:SigningKeys:0:Secret"] = RepositorySigningSecret,
        });
        Assert.Contains("Trust:InternalSecret is a development secret from the repository", error);
        Assert.Contains("Set Trust__InternalSecret from your secret store", error);
        Assert.Contains("Trust:SigningKeys:0:Secret (key 'dev-1') is a development secret from the repository", error);
        Assert.Contains("Trust__SigningKeys__0__Secret", error);
    }

    [Fact]
    public async Task BackendProcess_InProductionWithTheShippedSettings_ExitsNonZeroWithTheFixes()
    {
        // The real binary with the repository's appsettings (copied next to it) and nothing else: what a deployment that
        // forgot its secrets would run.
        var (exitCode, output) = await ProductionProcess.RunToExitAsync("backend.dll", $"--urls=http://127.0.0.1:{FreePort.Next()}");

        Assert.NotEqual(0, exitCode);
        Assert.Contains("The backend refuses to start", output);
        Assert.Contains("Trust:InternalSecret is a development secret from the repository", output);
        Assert.Contains("Trust:SigningKeys:0:Secret (key 'dev-1') is a development secret from the repository", output);
    }

    [Fact]
    public async Task BackendProcess_WithProductionAndALeftoverDevelopmentVariable_RefusesToStartInsteadOfRunningAsDevelopment()
    {
        // .NET lets DOTNET_ENVIRONMENT win: before the check this pair ran the backend as Development on the shipped
        // repository secrets.
        var (exitCode, output) = await ProductionProcess.RunToExitAsync("backend.dll",
            new Dictionary<string, string> { ["ASPNETCORE_ENVIRONMENT"] = "Production", ["DOTNET_ENVIRONMENT"] = "Development" },
            $"--urls=http://127.0.0.1:{FreePort.Next()}");

        Assert.NotEqual(0, exitCode);
        Assert.Contains("The backend refuses to start", output);
        Assert.Contains("ASPNETCORE_ENVIRONMENT is 'Production' but DOTNET_ENVIRONMENT is 'Development'", output);
    }

    [Fact]
    public async Task InternalSecretEqualToASigningKey_FailsTheStart()
    {
        string error = await StartupErrorAsync(new() { ["Trust:InternalSecret"] = BackendApp.SigningSecret });
        Assert.Contains("Trust:InternalSecret equals the secret of Trust:SigningKeys:0", error);
    }

    [Fact]
    public async Task LegacySharedSecret_FailsTheStartPointingToTheSettingsThatReplaceIt()
    {
        string error = await StartupErrorAsync(new() { ["Trust:SharedSecret"] = GatewaySecrets.Generate() });
        Assert.Contains("Trust:SharedSecret is no longer read", error);
        Assert.Contains("Trust:InternalSecret", error);
    }

    [Fact]
    public async Task NoSigningKey_FailsTheStart()
    {
        string error = await StartupErrorAsync(new() { ["Trust:SigningKeys:0:Id"] = null, ["Trust:SigningKeys:0:Secret"] = null });
        Assert.Contains("Trust:SigningKeys", error);
    }

    [Fact]
    public async Task ShortAdminKey_FailsTheStartNamingTheSetting()
    {
        // The backend's /metrics key was bound without validation: a short key started and guarded the endpoint weakly.
        string error = await StartupErrorAsync(new() { ["Admin:Key"] = "short" });
        Assert.Contains("Admin:Key must be at least 16 characters", error);
    }
}
