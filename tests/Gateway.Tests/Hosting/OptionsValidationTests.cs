using Gateway.Tests.Support;

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
    public async Task ABadValue_IsRefusedAtStart_WithAMessageNamingTheSetting(string setting, string message)
    {
        var errors = await GatewayStartup.SettingErrorsAtStartAsync(setting);
        Assert.Contains(errors, e => e.Contains(message));
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
