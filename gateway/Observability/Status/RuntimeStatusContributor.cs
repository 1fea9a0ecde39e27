using System.Runtime;
using System.Text.Json;

namespace Gateway.Observability;

/// <summary>
/// The .NET runtime's settings as this process runs them: which GC, its gen0 budget (what RSS under load mostly
/// follows, docs/decisions.md) and how readily it compacts gen2, the heap and resident size right now, and the tiered
/// compiler's call-counting delay.
/// An operator checking a new host reads the settings in force rather than the ones they think they shipped.
/// </summary>
internal sealed class RuntimeStatusContributor : IStatusContributor
{
    public string Name => "runtime";

    public void WriteStatus(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("gc", GCSettings.IsServerGC ? "server" : "workstation");
        writer.WriteBoolean("concurrent", GCSettings.LatencyMode != GCLatencyMode.Batch);
        writer.WriteNumber("processors", Environment.ProcessorCount);
        var gc = GC.GetConfigurationVariables();
        // The largest gen0 allocation budget the GC settled on at start (its own sizing, capped by the shipped setting).
        if (GcSetting(gc, "GCGen0MaxBudget") is { } budget) writer.WriteNumber("gen0BudgetBytes", budget);
        else writer.WriteNull("gen0BudgetBytes");
        // How readily the GC compacts a fragmented gen2 (0 = the GC's default, which background GC never does; 9 =
        // soonest): the shipped runtimeconfig sets 7 (docs/decisions.md). The GC lists it as GCConserveMem, whether set in
        // runtimeconfig or by DOTNET_GCConserveMemory.
        writer.WriteNumber("conserveMemory", GcSetting(gc, "GCConserveMem") ?? 0);
        writer.WriteNumber("heapBytes", GC.GetTotalMemory(forceFullCollection: false));
        writer.WriteStartArray("collections");
        for (int generation = 0; generation <= GC.MaxGeneration; generation++) writer.WriteNumberValue(GC.CollectionCount(generation));
        writer.WriteEndArray();
        writer.WriteNumber("residentBytes", Environment.WorkingSet);
        writer.WriteNumber("tieringDelayMs", TieringDelayMs());
        writer.WriteEndObject();
    }

    /// <summary>
    /// The tiered compiler's call-counting delay as the runtime read it at start: how long a new instance runs unoptimised
    /// code under load (scripts/run.sh sets 0; docs/performance.md, "Eleventh pass"). The runtime takes it only from the
    /// environment, hexadecimal like every <c>DOTNET_</c> number, and multiplies it by 10 on a single processor.
    /// </summary>
    internal static int TieringDelayMs()
    {
        const int RuntimeDefault = 100, SingleProcessorMultiplier = 10;
        string? configured = Environment.GetEnvironmentVariable("DOTNET_TC_CallCountingDelayMs")
            ?? Environment.GetEnvironmentVariable("COMPlus_TC_CallCountingDelayMs");
        int delay = configured is not null && int.TryParse(configured, System.Globalization.NumberStyles.HexNumber,
            System.Globalization.CultureInfo.InvariantCulture, out int parsed) ? parsed : RuntimeDefault;
        return Environment.ProcessorCount == 1 ? delay * SingleProcessorMultiplier : delay;
    }

    /// <summary>A numeric setting from the GC's own list of the settings it runs with; null when it does not list it.</summary>
    private static long? GcSetting(IReadOnlyDictionary<string, object> settings, string name) =>
        settings.TryGetValue(name, out var value) ? Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture) : null;
}
