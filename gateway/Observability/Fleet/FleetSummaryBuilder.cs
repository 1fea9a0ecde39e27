namespace Gateway.Observability.Fleet;

/// <summary>Turns <see cref="RollingStats"/> into a <see cref="FleetSummary"/> and back into <see cref="WindowSnapshot"/>s.</summary>
internal static class FleetSummaryBuilder
{
    public const int WireVersion = 1;
    public static readonly (string Name, int Seconds)[] Windows = [("1m", 60), ("15m", 900)];

    public static FleetSummary Build(RollingStats stats, string instanceId, DateTimeOffset now)
    {
        var windows = new Dictionary<string, FleetWindow>(StringComparer.Ordinal);
        foreach (var (name, seconds) in Windows)
        {
            windows[name] = new FleetWindow(Series(stats, StatsDimension.Tier, seconds), Series(stats, StatsDimension.RouteClass, seconds),
                Series(stats, StatsDimension.Cluster, seconds));
        }
        return new FleetSummary(WireVersion, instanceId, now.ToUnixTimeMilliseconds(), windows);
    }

    private static Dictionary<string, FleetSeries> Series(RollingStats stats, StatsDimension dimension, int seconds)
    {
        var result = new Dictionary<string, FleetSeries>(StringComparer.Ordinal);
        foreach (var key in stats.Keys(dimension))
        {
            var s = stats.Snapshot(dimension, key, seconds);
            // Series idle for the whole window are left out: the summary stays small on a quiet instance.
            if (s.Count == 0) continue;
            result[key] = new FleetSeries(s.Count, s.Errors, s.OverBudget, s.Unauthorized, s.RateLimited, s.Shed, Sparse(s.Histogram!));
        }
        return result;
    }

    private static long[] Sparse(long[] histogram)
    {
        int filled = 0;
        foreach (long c in histogram) if (c > 0) filled++;
        var pairs = new long[filled * 2];
        int j = 0;
        for (int i = 0; i < histogram.Length; i++)
        {
            if (histogram[i] == 0) continue;
            pairs[j++] = i;
            pairs[j++] = histogram[i];
        }
        return pairs;
    }

    /// <summary>Sums series (one per instance) into one window snapshot; percentiles come from the merged histogram.</summary>
    public static WindowSnapshot Merge(IEnumerable<FleetSeries> series, int seconds)
    {
        var histogram = new long[LatencyBuckets.Count];
        long n = 0, e = 0, o = 0, u = 0, r = 0, s = 0;
        foreach (var x in series)
        {
            n += x.Count; e += x.Errors; o += x.OverBudget; u += x.Unauthorized; r += x.RateLimited; s += x.Shed;
            // Foreign input: ignore malformed pairs rather than fail the page.
            for (int i = 0; i + 1 < x.Histogram.Length; i += 2)
            {
                long index = x.Histogram[i];
                if (index >= 0 && index < histogram.Length && x.Histogram[i + 1] > 0) histogram[index] += x.Histogram[i + 1];
            }
        }
        return new WindowSnapshot(seconds, n, e, o, WindowAccumulator.Percentile(histogram, 0.50), WindowAccumulator.Percentile(histogram, 0.95),
            WindowAccumulator.Percentile(histogram, 0.99), 0, 0, 0, 0, 0, 0, 0, u, r, s, histogram);
    }
}
