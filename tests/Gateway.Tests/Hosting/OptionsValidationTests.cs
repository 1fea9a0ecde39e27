using Gateway.Tests.Support;

namespace Gateway.Tests.Hosting;

/// <summary>
/// Issue 16: every options class is validated when the gateway starts, and a bad value stops it with a message naming
/// the setting (Program.cs prints these under "The gateway refuses to start" and exits 1).
/// </summary>
public sealed class OptionsValidationTests
{
    private static async Task<List<string>> ErrorsAsync(params string[] args)
    {
        var failure = await GatewayStartup.FailureAsync("Development", args);
        Assert.NotNull(failure);
        var errors = GatewayStartup.SettingErrors(failure);
        Assert.True(errors.Count > 0, "Expected a settings error, got: " + failure);
        return errors;
    }

    [Theory]
    [InlineData("--Forwarding:MaxConnectionsPerServer=-1", "Forwarding:MaxConnectionsPerServer must be 0 (unbounded) or a positive number")]
    [InlineData("--Forwarding:PooledConnectionLifetime=-00:00:01", "Forwarding:PooledConnectionLifetime must be between")]
    [InlineData("--Health:ProbeInterval=00:00:00", "Health:ProbeInterval must be between")]
    [InlineData("--Health:ProbeTimeout=00:00:00", "Health:ProbeTimeout must be between")]
    [InlineData("--RouteClasses:ReloadDebounce=-00:00:01", "RouteClasses:ReloadDebounce must be between")]
    [InlineData("--RouteClasses:Path=", "RouteClasses:Path is empty")]
    public async Task ABadValue_IsRefusedAtStart_WithAMessageNamingTheSetting(string setting, string message)
    {
        var errors = await ErrorsAsync(setting);
        Assert.Contains(errors, e => e.Contains(message));
    }

    [Fact]
    public async Task IdentityHeadersAdditional_NotAHeaderName_IsRefusedAtStartNamingTheEntry()
    {
        var errors = await ErrorsAsync("--IdentityHeaders:Additional:0=X-Tenant-Id", "--IdentityHeaders:Additional:1=X Tenant: 1");
        var error = Assert.Single(errors);
        Assert.Contains("IdentityHeaders:Additional:1 'X Tenant: 1' is not a header name", error);
    }

    [Fact]
    public async Task SeveralBadSettings_AreAllNamedByOneFailedStart()
    {
        var errors = await ErrorsAsync("--Forwarding:MaxConnectionsPerServer=-1", "--Health:ProbeTimeout=00:00:00",
            "--IdentityHeaders:Additional:0=", "--Sessions:InvalidTokenBudget:Limit=0");
        Assert.Contains(errors, e => e.Contains("Forwarding:MaxConnectionsPerServer"));
        Assert.Contains(errors, e => e.Contains("Health:ProbeTimeout"));
        Assert.Contains(errors, e => e.Contains("IdentityHeaders:Additional:0"));
        Assert.Contains(errors, e => e.Contains("Sessions:InvalidTokenBudget:Limit"));
    }
}
