using System.Text.Json;

namespace Gateway.Observability;

/// <summary>Writes the <c>/gateway/stats</c> document from <see cref="RollingStats"/>.</summary>
internal static class StatsJsonWriter
{
    public static readonly (string Name, int Seconds)[] Windows = [("1m", 60), ("15m", 900)];
    private const int HistoryStepSeconds = 10;
    private const int HistorySteps = RollingStats.Slots / HistoryStepSeconds;

    /// <summary>Writes the members of the stats document (the caller opens and closes the object).</summary>
    public static void WriteMembers(Utf8JsonWriter w, RollingStats stats, IReadOnlyDictionary<string, double> budgets,
        IReadOnlyList<RouteClassBudget> classes, DateTimeOffset now)
    {
        w.WriteString("generatedAt", now);
        var tiers = TierNames(stats, budgets, classes);
        w.WriteStartObject("tiers");
        foreach (var tier in tiers)
        {
            w.WriteStartObject(tier);
            double budget = budgets.TryGetValue(tier, out var b) ? b : 0;
            w.WriteNumber("budgetMs", budget);
            WriteWindows(w, stats, StatsDimension.Tier, tier, budget);
            w.WriteEndObject();
        }
        w.WriteEndObject();

        w.WriteStartObject("routeClasses");
        foreach (var (name, tier, budget) in ClassList(stats, classes))
        {
            w.WriteStartObject(name);
            w.WriteString("tier", tier);
            w.WriteNumber("budgetMs", budget);
            WriteWindows(w, stats, StatsDimension.RouteClass, name, budget);
            w.WriteEndObject();
        }
        w.WriteEndObject();

        w.WriteStartObject("clusters");
        var clusters = new SortedSet<string>(stats.Keys(StatsDimension.Cluster), StringComparer.Ordinal);
        foreach (var cluster in clusters)
        {
            w.WriteStartObject(cluster);
            WriteWindows(w, stats, StatsDimension.Cluster, cluster, 0);
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

        WriteHistory(w, stats, tiers);

        var all = stats.Snapshot(null, 60);
        w.WriteStartObject("total");
        w.WriteNumber("rps", Round(all.RequestsPerSecond));
        w.WriteNumber("errorRate", Round(all.ErrorRate));
        w.WriteNumber("count", all.Count);
        w.WriteEndObject();
    }

    /// <summary>The figures of one series in one window: what the tier, class, cluster and fleet tables all show.</summary>
    public static void WriteWindow(Utf8JsonWriter w, string name, WindowSnapshot s, double budget)
    {
        w.WriteStartObject(name);
        w.WriteNumber("p50", Round(s.P50Ms));
        w.WriteNumber("p95", Round(s.P95Ms));
        w.WriteNumber("p99", Round(s.P99Ms));
        w.WriteNumber("count", s.Count);
        w.WriteNumber("rps", Round(s.RequestsPerSecond));
        w.WriteNumber("errorRate", Round(s.ErrorRate));
        w.WriteNumber("errors", s.Errors);
        w.WriteNumber("unauthorized", s.Unauthorized);
        w.WriteNumber("rateLimited", s.RateLimited);
        w.WriteNumber("shed", s.Shed);
        w.WriteNumber("overBudget", s.OverBudget);
        w.WriteNumber("budgetCompliance", Round(s.BudgetCompliancePercent));
        w.WriteBoolean("overBudgetAtP99", budget > 0 && s.Count > 0 && s.P99Ms > budget);
        w.WriteEndObject();
    }

    private static void WriteWindows(Utf8JsonWriter w, RollingStats stats, StatsDimension dimension, string key, double budget)
    {
        w.WriteStartObject("windows");
        foreach (var (name, seconds) in Windows) WriteWindow(w, name, stats.Snapshot(dimension, key, seconds), budget);
        w.WriteEndObject();
    }

    /// <summary>Configured tiers (budgets, route classes) and any tier seen in traffic, sorted.</summary>
    public static SortedSet<string> TierNames(RollingStats stats, IReadOnlyDictionary<string, double> budgets, IReadOnlyList<RouteClassBudget> classes)
    {
        var names = new SortedSet<string>(budgets.Keys, StringComparer.Ordinal);
        foreach (var c in classes) names.Add(c.Tier);
        foreach (var t in stats.Tiers) names.Add(t);
        return names;
    }

    /// <summary>Configured classes, plus classes seen in traffic that a reload has since removed (tier unknown, no budget).</summary>
    public static List<RouteClassBudget> ClassList(RollingStats stats, IReadOnlyList<RouteClassBudget> classes)
    {
        var list = new List<RouteClassBudget>(classes);
        var known = new HashSet<string>(StringComparer.Ordinal);
        foreach (var c in classes) known.Add(c.Name);
        foreach (var seen in stats.Keys(StatsDimension.RouteClass))
            if (!known.Contains(seen)) list.Add(new RouteClassBudget(seen, "", 0));
        list.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        return list;
    }

    /// <summary>
    /// The last 15 minutes in 10-second steps. Each series lists only its filled steps as <c>[step, value]</c> pairs,
    /// step 0 the oldest and 89 the current one: a quiet gateway's document is short, and charts show gaps, not false zeros.
    /// </summary>
    private static void WriteHistory(Utf8JsonWriter w, RollingStats stats, IEnumerable<string> tiers)
    {
        w.WriteStartObject("history");
        w.WriteNumber("stepSeconds", HistoryStepSeconds);
        w.WriteNumber("steps", HistorySteps);
        w.WriteStartObject("tiers");
        var p50 = new List<(int, double)>();
        var p95 = new List<(int, double)>();
        var p99 = new List<(int, double)>();
        foreach (var tier in tiers)
        {
            p50.Clear(); p95.Clear(); p99.Clear();
            for (int i = 0; i < HistorySteps; i++)
            {
                var s = stats.Snapshot(tier, HistoryStepSeconds, (HistorySteps - 1 - i) * HistoryStepSeconds);
                if (s.Count == 0) continue;
                p50.Add((i, Round(s.P50Ms)));
                p95.Add((i, Round(s.P95Ms)));
                p99.Add((i, Round(s.P99Ms)));
            }
            w.WriteStartObject(tier);
            WritePairs(w, "p50", p50);
            WritePairs(w, "p95", p95);
            WritePairs(w, "p99", p99);
            w.WriteEndObject();
        }
        w.WriteEndObject();

        var rps = new List<(int, double)>();
        var errorRate = new List<(int, double)>();
        var response = new List<(int, double)>();
        var l1 = new List<(int, double)>();
        var l2 = new List<(int, double)>();
        var backend = new List<(int, double)>();
        for (int i = 0; i < HistorySteps; i++)
        {
            var s = stats.Snapshot(null, HistoryStepSeconds, (HistorySteps - 1 - i) * HistoryStepSeconds);
            if (s.Count == 0) continue;
            rps.Add((i, Round(s.RequestsPerSecond)));
            errorRate.Add((i, Round(s.ErrorRate)));
            if (s.ResponseCacheLookups > 0) response.Add((i, Round(s.ResponseCacheHitRatio)));
            if (s.SessionValidations > 0)
            {
                l1.Add((i, Round(s.SessionRatio(s.SessionL1))));
                l2.Add((i, Round(s.SessionRatio(s.SessionL2))));
                backend.Add((i, Round(s.SessionRatio(s.SessionBackend))));
            }
        }
        WritePairs(w, "rps", rps);
        WritePairs(w, "errorRate", errorRate);
        WritePairs(w, "responseHitRatio", response);
        WritePairs(w, "sessionL1Ratio", l1);
        WritePairs(w, "sessionL2Ratio", l2);
        WritePairs(w, "sessionBackendRatio", backend);
        w.WriteEndObject();
    }

    private static void WritePairs(Utf8JsonWriter w, string name, List<(int Step, double Value)> values)
    {
        w.WriteStartArray(name);
        foreach (var (step, value) in values)
        {
            w.WriteStartArray();
            w.WriteNumberValue(step);
            w.WriteNumberValue(value);
            w.WriteEndArray();
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

    public static double Round(double v) => Math.Round(v, 4);
}
