using System.Text.Json;

namespace Gateway.Observability;

/// <summary>Writes the <c>/gateway/stats</c> document from <see cref="RollingStats"/>.</summary>
internal static class StatsJsonWriter
{
    private static readonly (string Name, int Seconds)[] Windows = [("1m", 60), ("15m", 900)];
    private const int HistoryStepSeconds = 10;
    private const int HistorySteps = RollingStats.Slots / HistoryStepSeconds;

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

        WriteHistory(w, stats, names);

        var all = stats.Snapshot(null, 60);
        w.WriteStartObject("total");
        w.WriteNumber("rps", Round(all.RequestsPerSecond));
        w.WriteNumber("errorRate", Round(all.ErrorRate));
        w.WriteNumber("count", all.Count);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>
    /// The last 15 minutes in 10-second steps, oldest first, so a freshly opened dashboard shows history at once.
    /// Latency of an empty step is null (no data), not 0.
    /// </summary>
    private static void WriteHistory(Utf8JsonWriter w, RollingStats stats, IEnumerable<string> tiers)
    {
        w.WriteStartObject("history");
        w.WriteNumber("stepSeconds", HistoryStepSeconds);
        w.WriteStartObject("tiers");
        foreach (var tier in tiers)
        {
            var p50 = new double?[HistorySteps];
            var p95 = new double?[HistorySteps];
            var p99 = new double?[HistorySteps];
            for (int i = 0; i < HistorySteps; i++)
            {
                var s = stats.Snapshot(tier, HistoryStepSeconds, (HistorySteps - 1 - i) * HistoryStepSeconds);
                if (s.Count == 0) continue;
                p50[i] = Round(s.P50Ms);
                p95[i] = Round(s.P95Ms);
                p99[i] = Round(s.P99Ms);
            }
            w.WriteStartObject(tier);
            WriteArray(w, "p50", p50);
            WriteArray(w, "p95", p95);
            WriteArray(w, "p99", p99);
            w.WriteEndObject();
        }
        w.WriteEndObject();

        var rps = new double?[HistorySteps];
        var errorRate = new double?[HistorySteps];
        var response = new double?[HistorySteps];
        var l1 = new double?[HistorySteps];
        var l2 = new double?[HistorySteps];
        var backend = new double?[HistorySteps];
        for (int i = 0; i < HistorySteps; i++)
        {
            var s = stats.Snapshot(null, HistoryStepSeconds, (HistorySteps - 1 - i) * HistoryStepSeconds);
            rps[i] = Round(s.RequestsPerSecond);
            errorRate[i] = Round(s.ErrorRate);
            if (s.ResponseCacheLookups > 0) response[i] = Round(s.ResponseCacheHitRatio);
            if (s.SessionValidations > 0)
            {
                l1[i] = Round(s.SessionRatio(s.SessionL1));
                l2[i] = Round(s.SessionRatio(s.SessionL2));
                backend[i] = Round(s.SessionRatio(s.SessionBackend));
            }
        }
        WriteArray(w, "rps", rps);
        WriteArray(w, "errorRate", errorRate);
        WriteArray(w, "responseHitRatio", response);
        WriteArray(w, "sessionL1Ratio", l1);
        WriteArray(w, "sessionL2Ratio", l2);
        WriteArray(w, "sessionBackendRatio", backend);
        w.WriteEndObject();
    }

    private static void WriteArray(Utf8JsonWriter w, string name, double?[] values)
    {
        w.WriteStartArray(name);
        foreach (var v in values)
        {
            if (v is { } x) w.WriteNumberValue(x);
            else w.WriteNullValue();
        }
        w.WriteEndArray();
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
