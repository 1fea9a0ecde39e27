using System.Text.Json;

namespace Gateway.Observability;

/// <summary>
/// <c>/gateway/validate</c>: each tier and each route class judged against its latency budget over the last 1 and 15
/// minutes. The budget is a p99 target: a window passes when its p99 is within the budget, fails when above, and has
/// no verdict without traffic. The document's <c>pass</c> is false when any window fails.
/// </summary>
internal static class BudgetValidation
{
    public const string Rule = "p99 <= budgetMs (p95 and compliance shown for context; percentiles are within 15%)";

    public static void Write(Utf8JsonWriter w, RollingStats stats, IReadOnlyDictionary<string, double> tierBudgets,
        IReadOnlyList<RouteClassBudget> classes, DateTimeOffset now)
    {
        int failures = 0, verdicts = 0;
        w.WriteStartObject();
        w.WriteString("generatedAt", now);
        w.WriteString("rule", Rule);
        w.WriteStartObject("tiers");
        foreach (var tier in StatsJsonWriter.TierNames(stats, tierBudgets, classes))
        {
            double budget = tierBudgets.TryGetValue(tier, out var b) ? b : 0;
            w.WriteStartObject(tier);
            w.WriteNumber("budgetMs", budget);
            WriteWindows(w, stats, StatsDimension.Tier, tier, budget, ref failures, ref verdicts);
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteStartObject("routeClasses");
        foreach (var c in StatsJsonWriter.ClassList(stats, classes))
        {
            w.WriteStartObject(c.Name);
            w.WriteString("tier", c.Tier);
            w.WriteNumber("budgetMs", c.BudgetMs);
            WriteWindows(w, stats, StatsDimension.RouteClass, c.Name, c.BudgetMs, ref failures, ref verdicts);
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteNumber("failures", failures);
        w.WriteString("result", failures > 0 ? "fail" : verdicts > 0 ? "pass" : "no-data");
        w.WriteBoolean("pass", failures == 0);
        w.WriteEndObject();
    }

    private static void WriteWindows(Utf8JsonWriter w, RollingStats stats, StatsDimension dimension, string key, double budget,
        ref int failures, ref int verdicts)
    {
        w.WriteStartObject("windows");
        foreach (var (name, seconds) in StatsJsonWriter.Windows)
        {
            var s = stats.Snapshot(dimension, key, seconds);
            string result = budget <= 0 || s.Count == 0 ? "no-data" : s.P99Ms <= budget ? "pass" : "fail";
            if (result == "fail") failures++;
            if (result != "no-data") verdicts++;
            w.WriteStartObject(name);
            w.WriteString("result", result);
            w.WriteNumber("count", s.Count);
            w.WriteNumber("p95", StatsJsonWriter.Round(s.P95Ms));
            w.WriteNumber("p99", StatsJsonWriter.Round(s.P99Ms));
            w.WriteNumber("targetP99", budget);
            w.WriteNumber("compliance", StatsJsonWriter.Round(s.BudgetCompliancePercent));
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }
}
