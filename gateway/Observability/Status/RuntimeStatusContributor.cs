using System.Runtime;
using System.Text.Json;

namespace Gateway.Observability;

/// <summary>
/// The .NET runtime's memory settings as this process runs them: which GC, its gen0 budget (what RSS under load mostly
/// follows, docs/decisions.md), and the heap and resident size right now. An operator checking memory on a new host
/// reads the setting in force rather than the one they think they shipped.
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
        if (Gen0BudgetBytes() is { } budget) writer.WriteNumber("gen0BudgetBytes", budget);
        else writer.WriteNull("gen0BudgetBytes");
        writer.WriteNumber("heapBytes", GC.GetTotalMemory(forceFullCollection: false));
        writer.WriteStartArray("collections");
        for (int generation = 0; generation <= GC.MaxGeneration; generation++) writer.WriteNumberValue(GC.CollectionCount(generation));
        writer.WriteEndArray();
        writer.WriteNumber("residentBytes", Environment.WorkingSet);
        writer.WriteEndObject();
    }

    /// <summary>The largest gen0 allocation budget the GC settled on at start (its own sizing, capped by the shipped setting).</summary>
    internal static long? Gen0BudgetBytes() =>
        GC.GetConfigurationVariables().TryGetValue("GCGen0MaxBudget", out var value) ? Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture) : null;
}
