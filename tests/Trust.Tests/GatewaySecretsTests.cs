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
