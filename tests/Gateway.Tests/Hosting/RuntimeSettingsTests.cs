using System.Text.Json;
using Gateway.Tests.Support;
using TestInfrastructure;

namespace Gateway.Tests.Hosting;

/// <summary>
/// The gateway process runs with the memory settings it ships (gateway.runtimeconfig.json): workstation GC with
/// background collection, and a gen0 budget of at most 16 MB. Without the cap the GC sizes gen0 from the CPU cache, 80 MB
/// on a host with a 260 MB L3, and RSS at 1,024 connections passed 200 MB (docs/performance.md, tenth pass).
/// On a host whose cache gives a budget below the cap on its own, the budget assertion holds either way. It also ships
/// GC ConserveMemory 7 (gen2 compacted once fragmented; RSS at 1,024 connections 166 instead of 182-188 MB, fourteenth pass).
/// The status also reports the tiered compiler's call-counting delay, which the runtime takes from the environment only.
/// </summary>
public sealed class RuntimeSettingsTests(RedisFixture redis)
{
    private const long Gen0Cap = 16 * 1024 * 1024;

    [Fact]
    public async Task GatewayProcess_RunsWorkstationGc_WithGen0BudgetCapped_AndGen2Compaction_AndSaysSoInStatus()
    {
        var runtime = await RuntimeStatusAsync(new Dictionary<string, string>());

        Assert.Equal("workstation", runtime.GetProperty("gc").GetString());
        Assert.True(runtime.GetProperty("concurrent").GetBoolean());
        long budget = runtime.GetProperty("gen0BudgetBytes").GetInt64();
        Assert.InRange(budget, 256 * 1024, Gen0Cap);
        Assert.True(runtime.GetProperty("residentBytes").GetInt64() > 0);
        Assert.Equal(3, runtime.GetProperty("collections").GetArrayLength());
        Assert.Equal(7, runtime.GetProperty("conserveMemory").GetInt32());
    }

    [Fact]
    public async Task GatewayProcess_ConserveMemory_CanBeOverriddenByTheOperator()
    {
        var runtime = await RuntimeStatusAsync(new Dictionary<string, string> { ["DOTNET_GCConserveMemory"] = "0" });

        Assert.Equal(0, runtime.GetProperty("conserveMemory").GetInt32());
    }

    [Fact]
    public async Task GatewayProcess_Gen0Budget_CanBeOverriddenByTheOperator()
    {
        // The runtime reads DOTNET_GC* values as hexadecimal: 0x400000 = 4 MB, below any host's own sizing and the cap.
        var runtime = await RuntimeStatusAsync(new Dictionary<string, string> { ["DOTNET_GCGen0MaxBudget"] = "400000" });

        Assert.Equal(4 * 1024 * 1024, runtime.GetProperty("gen0BudgetBytes").GetInt64());
    }

    [Theory]
    [InlineData(null, 100)]   // the runtime's default
    [InlineData("0", 0)]      // what scripts/run.sh sets
    [InlineData("20", 32)]    // hexadecimal, as the runtime reads every DOTNET_ number
    public async Task GatewayProcess_ReportsTheTieringDelayTheRuntimeRead(string? configured, int expectedMs)
    {
        var runtime = await RuntimeStatusAsync(new Dictionary<string, string>
        {
            ["DOTNET_TC_CallCountingDelayMs"] = configured ?? "", ["COMPlus_TC_CallCountingDelayMs"] = "",
        });

        int perProcessor = Environment.ProcessorCount == 1 ? 10 : 1;
        Assert.Equal(expectedMs * perProcessor, runtime.GetProperty("tieringDelayMs").GetInt32());
    }

    /// <summary>Starts a gateway process with <paramref name="environment"/> and returns its <c>/gateway/status</c> → <c>runtime</c>.</summary>
    private async Task<JsonElement> RuntimeStatusAsync(IReadOnlyDictionary<string, string> environment)
    {
        await using var backend = await FakeSessionBackend.StartAsync();
        string routes = RouteFiles.CreateTemp(_ => { });
        await using var gateway = await GatewayProcess.StartAsync(environment, backend.BaseUrl, redis.ConnectionString, routes);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        using var status = JsonDocument.Parse(await client.GetStringAsync(gateway.AdminUrl + "/gateway/status", TestContext.Current.CancellationToken));
        return status.RootElement.GetProperty("runtime").Clone();
    }
}
