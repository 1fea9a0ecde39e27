using System.Text.Json;
using Gateway.Observability;
using Gateway.Observability.Fleet;

namespace Gateway.Tests.Observability;

/// <summary>The published summary and the fleet aggregate, without Redis: what survives the wire, and how it merges.</summary>
public sealed class FleetSummaryTests
{
    private readonly Microsoft.Extensions.Time.Testing.FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Aggregate_ReadsPercentilesFromMergedHistograms_NotFromAveragedPercentiles()
    {
        var fast = new RollingStats(_time);
        var slow = new RollingStats(_time);
        // 98 fast requests on one instance, 2 slow on the other: the fleet p99 is slow, an average of p99s would not be.
        for (int i = 0; i < 98; i++) fast.Record(new RequestSample("standard", 1, 200, false, null, null, "open", "backend"));
        for (int i = 0; i < 2; i++) slow.Record(new RequestSample("standard", 500, 200, true, null, null, "open", "backend"));

        var series = new[] { RoundTrip(fast, "a"), RoundTrip(slow, "b") };
        var merged = FleetSummaryBuilder.Merge(Array.ConvertAll(series, s => s.Windows["1m"].Classes["open"]), 60);

        Assert.Equal(100, merged.Count);
        Assert.Equal(2, merged.OverBudget);
        Assert.InRange(merged.P50Ms, 0.85, 1.15);
        Assert.InRange(merged.P99Ms, 425, 575);
    }

    [Fact]
    public void Summary_LeavesOutIdleSeries_AndKeepsOnlyFilledBuckets()
    {
        var stats = new RollingStats(_time);
        stats.Record(new RequestSample("standard", 3, 401, false, null, null, "open", null));
        stats.Record(new RequestSample("standard", 3, 429, false, null, null, "open", null));
        stats.Record(new RequestSample("ultra-fast", 0.2, 503, false, null, null, "health", null, Shed: true));
        _time.Advance(TimeSpan.FromMinutes(2));
        stats.Record(new RequestSample("standard", 3, 200, false, null, null, "open", null));

        var summary = RoundTrip(stats, "x");

        var minute = summary.Windows["1m"];
        Assert.False(minute.Tiers.ContainsKey("ultra-fast"));   // idle in the last minute: not sent
        Assert.Equal(1, minute.Classes["open"].Count);
        var quarter = summary.Windows["15m"];
        Assert.Equal(1, quarter.Tiers["standard"].Unauthorized);
        Assert.Equal(1, quarter.Tiers["standard"].RateLimited);
        Assert.Equal(1, quarter.Tiers["ultra-fast"].Shed);
        Assert.Equal(2, quarter.Classes["open"].Histogram.Length);   // one filled bucket: one index, count pair
        Assert.Equal(3, quarter.Classes["open"].Histogram[1]);
        Assert.Empty(quarter.Clusters);
    }

    private FleetSummary RoundTrip(RollingStats stats, string id)
    {
        string json = JsonSerializer.Serialize(FleetSummaryBuilder.Build(stats, id, _time.GetUtcNow()), FleetJsonContext.Default.FleetSummary);
        return JsonSerializer.Deserialize(json, FleetJsonContext.Default.FleetSummary)!;
    }
}
