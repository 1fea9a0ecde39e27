using Gateway.Trust;

namespace Trust.Tests;

public sealed class GatewaySecretsTests
{
    [Fact]
    public void Generate_MakesDistinctSecretsThatPassOutsideDevelopment()
    {
        string a = GatewaySecrets.Generate(), b = GatewaySecrets.Generate();
        Assert.NotEqual(a, b);
        Assert.Null(GatewaySecrets.Weakness(a, isDevelopment: false));
    }

    [Fact]
    public void RepositorySecret_IsRefusedOutsideDevelopment_AndAcceptedInDevelopment()
    {
        string committed = GatewaySecrets.DevelopmentMarker + "signing-key-cluster-backend-dev-1-Zr5w";
        Assert.Contains("refused outside the Development environment", GatewaySecrets.Weakness(committed, isDevelopment: false));
        Assert.Null(GatewaySecrets.Weakness(committed, isDevelopment: true));
    }

    [Theory]
    [InlineData("Production", "Development")]
    [InlineData("Development", "Production")]
    [InlineData("Staging", "Production")]
    public void DisagreeingEnvironmentVariables_AreAConflictNamingBothAndTheOneThatWins(string aspNetCore, string dotnet)
    {
        string? conflict = GatewaySecrets.EnvironmentConflict(aspNetCore, dotnet);
        Assert.NotNull(conflict);
        Assert.Contains($"ASPNETCORE_ENVIRONMENT is '{aspNetCore}' but DOTNET_ENVIRONMENT is '{dotnet}'", conflict);
        Assert.Contains($"runs the process as '{dotnet}'", conflict);
        Assert.Contains("Set only one of them, or both to the same value", conflict);
    }

    [Theory]
    [InlineData("Production", "Production")]
    [InlineData("Production", "production")]   // environment names compare case-insensitively (IsEnvironment)
    [InlineData("Production", null)]
    [InlineData(null, "Production")]
    [InlineData("", "Development")]
    [InlineData(null, null)]
    public void AgreeingOrSingleEnvironmentVariables_AreNoConflict(string? aspNetCore, string? dotnet) =>
        Assert.Null(GatewaySecrets.EnvironmentConflict(aspNetCore, dotnet));

    [Theory]
    [InlineData(null, "is not set")]
    [InlineData("", "is not set")]
    [InlineData("0123456789abcdef0123456789abcde", "shorter than 32 bytes")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "too regular")]
    [InlineData("abababababababababababababababababababababab", "too regular")]
    public void WeakSecret_IsRefusedEvenInDevelopment(string? secret, string reason) =>
        Assert.Contains(reason, GatewaySecrets.Weakness(secret, isDevelopment: true));

    [Fact]
    public void ShippedDevelopmentSecrets_CarryTheMarkerAndPassInDevelopment()
    {
        // Every secret in the repository's appsettings.json must be refused in production and usable in development.
        string text = File.ReadAllText(TestInfrastructure.RepoPaths.Combine("appsettings.json"));
        var secrets = System.Text.RegularExpressions.Regex.Matches(text, "\"(?:[Ss]ecret|InternalSecret)\"\\s*:\\s*\"([^\"]*)\"")
            .Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(secrets);
        foreach (var secret in secrets)
        {
            Assert.StartsWith(GatewaySecrets.DevelopmentMarker, secret);
            Assert.Null(GatewaySecrets.Weakness(secret, isDevelopment: true));
            Assert.NotNull(GatewaySecrets.Weakness(secret, isDevelopment: false));
        }
    }
}
