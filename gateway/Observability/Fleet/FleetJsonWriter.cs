using System.Text.Json;

namespace Gateway.Observability.Fleet;

/// <summary>
/// Writes the <c>fleet</c> member of <c>/gateway/stats?scope=fleet</c>: the live instances together (counters summed,
/// percentiles from the merged histograms) and every instance apart, stale and gone ones marked.
/// </summary>
internal static class FleetJsonWriter
{
    public static void Write(Utf8JsonWriter w, FleetView view, FleetReader reader, IReadOnlyDictionary<string, double> tierBudgets,
        IReadOnlyList<RouteClassBudget> classes, DateTimeOffset now)
    {
        var classBudgets = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var c in classes) classBudgets[c.Name] = c.BudgetMs;
        var none = new Dictionary<string, double>(StringComparer.Ordinal);

        w.WriteStartObject("fleet");
        w.WriteString("self", view.SelfId);
        w.WriteBoolean("fromRedis", view.FromRedis);
        w.WriteBoolean("degraded", view.Degraded is not null);
        w.WriteString("degradedReason", view.Degraded);
        w.WriteNumber("publishIntervalSeconds", reader.PublishInterval.TotalSeconds);
        w.WriteNumber("staleAfterSeconds", reader.StaleAfter.TotalSeconds);

        var live = new List<FleetSummary>();
        foreach (var i in view.Instances) if (i.State == FleetInstanceState.Live && i.Summary is not null) live.Add(i.Summary);
        w.WriteStartObject("aggregate");
        w.WriteNumber("instances", live.Count);
        w.WriteStartObject("windows");
        foreach (var (name, seconds) in FleetSummaryBuilder.Windows)
        {
            w.WriteStartObject(name);
            WriteMerged(w, "tiers", live, name, seconds, static x => x.Tiers, tierBudgets);
            WriteMerged(w, "routeClasses", live, name, seconds, static x => x.Classes, classBudgets);
            WriteMerged(w, "clusters", live, name, seconds, static x => x.Clusters, none);
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteEndObject();

        w.WriteStartArray("instances");
        foreach (var instance in view.Instances)
        {
            w.WriteStartObject();
            w.WriteString("id", instance.Id);
            w.WriteBoolean("self", instance.Self);
            w.WriteString("state", instance.State switch { FleetInstanceState.Stale => "stale", FleetInstanceState.Gone => "gone", _ => "live" });
            w.WriteString("reportedAt", instance.ReportedAt);
            w.WriteNumber("ageSeconds", Math.Round(Math.Max(0, (now - instance.ReportedAt).TotalSeconds), 1));
            if (instance.Summary is { } summary)
            {
                w.WriteStartObject("windows");
                foreach (var (name, seconds) in FleetSummaryBuilder.Windows)
                {
                    w.WriteStartObject(name);
                    var one = new List<FleetSummary>(1) { summary };
                    WriteMerged(w, "tiers", one, name, seconds, static x => x.Tiers, tierBudgets);
                    WriteMerged(w, "routeClasses", one, name, seconds, static x => x.Classes, classBudgets);
                    WriteMerged(w, "clusters", one, name, seconds, static x => x.Clusters, none);
                    w.WriteEndObject();
                }
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteMerged(Utf8JsonWriter w, string member, List<FleetSummary> summaries, string window, int seconds,
        Func<FleetWindow, Dictionary<string, FleetSeries>> select, IReadOnlyDictionary<string, double> budgets)
    {
        var byName = new SortedDictionary<string, List<FleetSeries>>(StringComparer.Ordinal);
        foreach (var summary in summaries)
        {
            if (!summary.Windows.TryGetValue(window, out var win) || select(win) is not { } series) continue;
            foreach (var (name, s) in series)
            {
                if (!byName.TryGetValue(name, out var list)) byName[name] = list = [];
                list.Add(s);
            }
        }
        w.WriteStartObject(member);
        foreach (var (name, list) in byName)
        {
            double budget = budgets.TryGetValue(name, out var b) ? b : 0;
            StatsJsonWriter.WriteWindow(w, name, FleetSummaryBuilder.Merge(list, seconds), budget);
        }
        w.WriteEndObject();
    }
}
