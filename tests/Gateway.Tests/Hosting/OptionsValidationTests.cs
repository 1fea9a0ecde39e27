using Gateway.Resilience;
using Gateway.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Hosting;

/// <summary>
/// Issue 16: every options class is validated when the gateway starts, and a bad value stops it with a message naming
/// the setting (Program.cs prints these under "The gateway refuses to start" and exits 1).
/// </summary>
public sealed class OptionsValidationTests
{
    [Theory]
    [InlineData("--Forwarding:MaxConnectionsPerServer=-1", "Forwarding:MaxConnectionsPerServer must be 0 (unbounded) or a positive number")]
    [InlineData("--Forwarding:PooledConnectionLifetime=-00:00:01", "Forwarding:PooledConnectionLifetime must be between")]
    [InlineData("--Health:ProbeInterval=00:00:00", "Health:ProbeInterval must be between")]
    [InlineData("--Health:ProbeTimeout=00:00:00", "Health:ProbeTimeout must be between")]
    [InlineData("--RouteClasses:ReloadDebounce=-00:00:01", "RouteClasses:ReloadDebounce must be between")]
    [InlineData("--RouteClasses:Path=", "RouteClasses:Path is empty")]
    [InlineData("--Backend:H2cUrl=https://127.0.0.1:8091", "Backend:H2cUrl 'https://127.0.0.1:8091' is not an absolute http:// URL")]
    [InlineData("--Backend:H2cUrl=127.0.0.1:8091", "Backend:H2cUrl '127.0.0.1:8091' is not an absolute http:// URL")]
    // A misspelt tier was ignored: the tier kept its default limit without a word.
    [InlineData("--LoadShedding:MaxConcurrency:critical-auht=32", "LoadShedding:MaxConcurrency names a tier that does not exist")]
    public async Task ABadValue_IsRefusedAtStart_WithAMessageNamingTheSetting(string setting, string message)
    {
        var errors = await GatewayStartup.SettingErrorsAtStartAsync(setting);
        Assert.Contains(errors, e => e.Contains(message));
    }

    /// <summary>Bash cannot export a name with '-': "critical_auth" is the same tier.</summary>
    [Fact]
    public void LoadShedding_ATierSpeltWithAnUnderscore_IsThatTier()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["LoadShedding:MaxConcurrency:critical_auth"] = "32" }).Build();
        using var provider = new ServiceCollection().AddGatewayResilience(configuration).BuildServiceProvider();
        var options = provider.GetRequiredService<IOptions<TierLoadSheddingOptions>>().Value;
        Assert.Equal(32, options.MaxConcurrency["critical-auth"]);
        Assert.False(options.MaxConcurrency.ContainsKey("critical_auth"));
    }

    [Fact]
    public async Task IdentityHeadersAdditional_NotAHeaderName_IsRefusedAtStartNamingTheEntry()
    {
        var errors = await GatewayStartup.SettingErrorsAtStartAsync("--IdentityHeaders:Additional:0=X-Tenant-Id", "--IdentityHeaders:Additional:1=X Tenant: 1");
        var error = Assert.Single(errors);
        Assert.Contains("IdentityHeaders:Additional:1 'X Tenant: 1' is not a header name", error);
    }

    [Fact]
    public async Task SeveralBadSettings_AreAllNamedByOneFailedStart()
    {
        var errors = await GatewayStartup.SettingErrorsAtStartAsync("--Forwarding:MaxConnectionsPerServer=-1", "--Health:ProbeTimeout=00:00:00",
            "--IdentityHeaders:Additional:0=", "--Sessions:InvalidTokenBudget:Limit=0");
        Assert.Contains(errors, e => e.Contains("Forwarding:MaxConnectionsPerServer"));
        Assert.Contains(errors, e => e.Contains("Health:ProbeTimeout"));
        Assert.Contains(errors, e => e.Contains("IdentityHeaders:Additional:0"));
        Assert.Contains(errors, e => e.Contains("Sessions:InvalidTokenBudget:Limit"));
    }
}
