using System.Text.Json;

namespace Gateway.Observability;

/// <summary>Writes the <c>/gateway/stats</c> document from <see cref="RollingStats"/>.</summary>
internal static class StatsJsonWriter
{
    private static readonly (string Name, int Seconds)[] Windows = [("1m", 60), ("15m", 900)];

    public static void Write(Utf8JsonWriter w, RollingStats stats, IReadOnlyDictionary<string, double> budgets, DateTimeOffset now)
    {
        w.WriteStartObject();
        w.WriteString("generatedAt", now);
        w.WriteStartObject("tiers");
        var names = new SortedSet<string>(budgets.Keys, StringComparer.Ordinal);
        foreach (var t in stats.Tiers) names.Add(t);
        foreach (var tier in names)
        {
            w.WriteStartObject(tier);
            double budget = budgets.TryGetValue(tier, out var b) ? b : 0;
            w.WriteNumber("budgetMs", budget);
            w.WriteStartObject("windows");
            foreach (var (name, seconds) in Windows)
            {
                var s = stats.Snapshot(tier, seconds);
                w.WriteStartObject(name);
                w.WriteNumber("p50", Round(s.P50Ms));
                w.WriteNumber("p95", Round(s.P95Ms));
                w.WriteNumber("p99", Round(s.P99Ms));
                w.WriteNumber("count", s.Count);
                w.WriteNumber("rps", Round(s.RequestsPerSecond));
                w.WriteNumber("errorRate", Round(s.ErrorRate));
                w.WriteNumber("overBudget", s.OverBudget);
                w.WriteNumber("budgetCompliance", Round(s.BudgetCompliancePercent));
                w.WriteBoolean("overBudgetAtP99", budget > 0 && s.Count > 0 && s.P99Ms > budget);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndObject();

        w.WriteStartObject("cache");
        foreach (var (name, seconds) in Windows)
        {
            var s = stats.Snapshot(null, seconds);
            w.WriteStartObject(name);
            w.WriteStartObject("response");
            w.WriteNumber("lookups", s.ResponseCacheLookups);
            w.WriteNumber("hits", s.ResponseCacheHits);
            w.WriteNumber("hitRatio", Round(s.ResponseCacheHitRatio));
            w.WriteEndObject();
            w.WriteStartObject("session");
            w.WriteNumber("validations", s.SessionValidations);
            WriteSource(w, "l1", s.SessionL1, s);
            WriteSource(w, "l2", s.SessionL2, s);
            WriteSource(w, "backend", s.SessionBackend, s);
            WriteSource(w, "negative", s.SessionNegative, s);
            WriteSource(w, "rejected", s.SessionRejected, s);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndObject();

        var all = stats.Snapshot(null, 60);
        w.WriteStartObject("total");
        w.WriteNumber("rps", Round(all.RequestsPerSecond));
        w.WriteNumber("errorRate", Round(all.ErrorRate));
        w.WriteNumber("count", all.Count);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteSource(Utf8JsonWriter w, string name, long count, WindowSnapshot s)
    {
        w.WriteStartObject(name);
        w.WriteNumber("count", count);
        w.WriteNumber("ratio", Round(s.SessionRatio(count)));
        w.WriteEndObject();
    }

    private static double Round(double v) => Math.Round(v, 4);
}
