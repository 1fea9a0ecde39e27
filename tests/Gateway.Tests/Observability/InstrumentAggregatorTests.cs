using System.Diagnostics.Metrics;
using Gateway.Observability.Prometheus;

namespace Gateway.Tests.Observability;

/// <summary>
/// The aggregator's hashed lookup (<see cref="SeriesIndex"/>): every label set keeps its own series however many there
/// are, whatever the order of its labels, whichever labels share a hash, and however many threads create them at once.
/// </summary>
public sealed class InstrumentAggregatorTests : IDisposable
{
    private readonly Meter _meter = new("InstrumentAggregatorTests");

    public void Dispose() => _meter.Dispose();

    private InstrumentAggregator Counter(int maxSeries = 10_000) =>
        new(_meter.CreateCounter<long>("c"), "c_total", "counter", AggregationKind.Sum, [], maxSeries);

    private static KeyValuePair<string, object?>[] Tags(params (string Key, object? Value)[] tags) =>
        [.. tags.Select(t => new KeyValuePair<string, object?>(t.Key, t.Value))];

    [Fact]
    public void ManyLabelSets_EachCountsOnlyItsOwnMeasurements()
    {
        var aggregator = Counter();
        string[] statuses = ["2xx", "4xx", "5xx"];
        for (int round = 1; round <= 3; round++)
            for (int c = 0; c < 400; c++)
                foreach (var status in statuses)
                    // New string instances each time, as configuration reloads produce: equal values are one series.
                    aggregator.Record(round, Tags(("route_class", new string($"class-{c:D3}".ToCharArray())), ("status_class", status)));

        Assert.Equal(1200, aggregator.Series.Length);
        Assert.All(aggregator.Series, s => Assert.Equal(6, s.Value));   // 1 + 2 + 3 on every series
    }

    [Fact]
    public void SameLabelsInAnotherOrder_AreTheSameSeries()
    {
        var aggregator = Counter();
        aggregator.Record(1, Tags(("tier", "standard"), ("route_class", "orders"), ("status_class", "2xx")));
        aggregator.Record(1, Tags(("status_class", "2xx"), ("tier", "standard"), ("route_class", "orders")));
        aggregator.Record(1, Tags(("route_class", "orders"), ("status_class", "2xx"), ("tier", "standard")));

        var series = Assert.Single(aggregator.Series);
        Assert.Equal(3, series.Value);
    }

    [Fact]
    public void LabelSetsWithTheSameHash_StayApart()
    {
        // Same length and the same first, middle and last characters: the index hashes them alike on purpose.
        var a = Tags(("route_class", "aXbYc"));
        var b = Tags(("route_class", "aZbWc"));
        Assert.Equal(SeriesIndex.Hash(a), SeriesIndex.Hash(b));
        // Swapped values across two labels: the order-free hash sums them alike too.
        var c = Tags(("tier", "one"), ("route_class", "two"));
        var d = Tags(("tier", "two"), ("route_class", "one"));

        var aggregator = Counter();
        aggregator.Record(1, a);
        aggregator.Record(2, b);
        aggregator.Record(4, a);
        aggregator.Record(8, c);
        aggregator.Record(16, d);

        Assert.Equal(4, aggregator.Series.Length);
        Assert.Equal([5.0, 2.0, 8.0, 16.0], aggregator.Series.Select(s => s.Value));
    }

    [Fact]
    public void NonStringLabelValues_AreComparedByValue()
    {
        var aggregator = Counter();
        aggregator.Record(1, Tags(("code", 200), ("retried", false)));
        aggregator.Record(1, Tags(("retried", false), ("code", 200)));
        aggregator.Record(1, Tags(("code", 500), ("retried", false)));
        aggregator.Record(1, Tags(("code", null), ("retried", false)));

        Assert.Equal([2.0, 1.0, 1.0], aggregator.Series.Select(s => s.Value));
    }

    [Fact]
    public void ThreadsRacingOnNewLabelSets_CreateEachSeriesOnce()
    {
        var aggregator = Counter();
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, _ =>
        {
            for (int c = 0; c < 300; c++) aggregator.Record(1, Tags(("route_class", $"class-{c}")));
        });

        Assert.Equal(300, aggregator.Series.Length);
        Assert.All(aggregator.Series, s => Assert.Equal(8, s.Value));
    }

    [Fact]
    public void BeyondMaxSeries_NewLabelSetsAreDropped_OldOnesStillCount()
    {
        var aggregator = Counter(maxSeries: 3);
        for (int c = 0; c < 5; c++) aggregator.Record(1, Tags(("route_class", $"class-{c}")));
        aggregator.Record(1, Tags(("route_class", "class-0")));

        Assert.True(aggregator.Overflowed);
        Assert.Equal([2.0, 1.0, 1.0], aggregator.Series.Select(s => s.Value));
    }
}
