using System.Text.Json;
using Gateway.Routing;
using Gateway.Tests.Observability;
using Gateway.Tests.Support;
using Microsoft.Extensions.Logging;
using TestInfrastructure;

namespace Gateway.Tests.Routing.Diff;

/// <summary>A hot reload that weakens access: applied, logged once at Warning with the list, shown in /gateway/status.</summary>
public sealed class ReloadAuditTests(RedisFixture redis) : IAsyncLifetime
{
    private readonly CapturingLoggerProvider _logs = new();
    private GatewayOnRouteFile _stack = null!;
    private GatewayInstance _gateway => _stack.Gateway;
    private string _file => _stack.File;

    public async ValueTask InitializeAsync() =>
        _stack = await GatewayOnRouteFile.StartAsync(redis.ConnectionString, b => b.Logging.AddProvider(_logs));

    public ValueTask DisposeAsync() => _stack.DisposeAsync();

    private async Task<JsonElement> ConfigStatusAsync()
    {
        using var doc = JsonDocument.Parse(await _gateway.AdminClient.GetStringAsync("/gateway/status"));
        return doc.RootElement.GetProperty("config").Clone();
    }

    private async Task<JsonElement> WaitForChangeToAsync(string version)
    {
        JsonElement config = default;
        await Poll.UntilAsync(async () =>
        {
            config = await ConfigStatusAsync();
            return config.GetProperty("lastChange") is { ValueKind: JsonValueKind.Object } c && c.GetProperty("toVersion").GetString() == version;
        }, $"the reload to {version} is compared");
        return config;
    }

    [Fact]
    public async Task WeakeningReload_IsApplied_LoggedOnceAtWarning_AndListedInStatus()
    {
        var weaker = RouteFiles.Shipped();
        weaker["version"] = "weaker-1";
        weaker["classes"]!["standard"]!["auth"] = "anonymous";
        await File.WriteAllTextAsync(_file, weaker.ToJsonString());

        var config = await WaitForChangeToAsync("weaker-1");
        Assert.Equal("weaker-1", _gateway.Get<IRouteTable>().Current.Version);   // warned, not refused
        var change = config.GetProperty("lastChange");
        Assert.True(change.GetProperty("weaker").GetBoolean());
        Assert.Equal("2026-11-22.1", change.GetProperty("fromVersion").GetString());
        var orgs = change.GetProperty("weakened").EnumerateArray().Single(w => w.GetProperty("oldRoute").GetString() == "orgs");
        Assert.Equal("session", orgs.GetProperty("oldAuth").GetString());
        Assert.Equal("anonymous", orgs.GetProperty("newAuth").GetString());
        Assert.Contains(orgs.GetProperty("requests").EnumerateArray(), r => r.GetString() == "DELETE /orgs/probe");
        Assert.Equal("weaker-1", config.GetProperty("lastWeakening").GetProperty("toVersion").GetString());

        Assert.Contains("\ngateway_config_weakening_reloads_total 1\n", await _gateway.AdminClient.GetStringAsync("/metrics"));
        var warning = Assert.Single(_logs.Entries, e => e.EventId.Id == 2005);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("route 'orgs'", warning.Message);
        Assert.Contains("route 'audit'", warning.Message);

        // Explain follows the reload: the live routes now answer anonymous for /orgs.
        using var explain = JsonDocument.Parse(await _gateway.AdminClient.GetStringAsync("/gateway/explain?path=/orgs/1&method=DELETE"));
        Assert.Equal("anonymous", explain.RootElement.GetProperty("auth").GetString());

        // A harmless reload after it: the last change is clean, the weakening stays on record, no second warning.
        var harmless = weaker.DeepClone().AsObject();
        harmless["version"] = "harmless-2";
        harmless["classes"]!["standard"]!["timeoutMs"] = 20000;
        await File.WriteAllTextAsync(_file, harmless.ToJsonString());
        config = await WaitForChangeToAsync("harmless-2");
        Assert.False(config.GetProperty("lastChange").GetProperty("weaker").GetBoolean());
        Assert.True(config.GetProperty("lastChange").GetProperty("changes").GetInt32() > 0);
        Assert.Equal("weaker-1", config.GetProperty("lastWeakening").GetProperty("toVersion").GetString());
        Assert.Single(_logs.Entries, e => e.EventId.Id == 2005);
        Assert.Contains("\ngateway_config_weakening_reloads_total 1\n", await _gateway.AdminClient.GetStringAsync("/metrics"));
    }
}
