using System.Diagnostics.Metrics;

namespace Gateway.Observability.Prometheus;

/// <summary>How an instrument's measurements are folded into a series.</summary>
internal enum AggregationKind
{
    /// <summary>Counter, UpDownCounter: measurements are deltas.</summary>
    Sum,
    /// <summary>Observable instruments and Gauge: each measurement replaces the value.</summary>
    LastValue,
    /// <summary>Histogram: explicit-bucket histogram.</summary>
    Histogram,
}

/// <summary>
/// The series of one instrument. Lookups read an immutable array snapshot without locking; a new label set takes a
/// lock once and publishes a new snapshot (copy-on-write), so the hot path stays lock-free.
/// </summary>
internal sealed class InstrumentAggregator
{
    private readonly object _gate = new();
    private MetricSeries[] _series = [];

    public InstrumentAggregator(Instrument instrument, string prometheusName, string prometheusType, AggregationKind kind, double[] bounds, int maxSeries)
    {
        Instrument = instrument;
        PrometheusName = prometheusName;
        PrometheusType = prometheusType;
        Kind = kind;
        Bounds = bounds;
        BoundLabels = new string[bounds.Length];
        for (int i = 0; i < bounds.Length; i++) BoundLabels[i] = PrometheusTextWriter.FormatValue(bounds[i]);
        MaxSeries = maxSeries;
    }

    public Instrument Instrument { get; }
    public string PrometheusName { get; }
    /// <summary><c>counter</c>, <c>gauge</c> or <c>histogram</c>.</summary>
    public string PrometheusType { get; }
    public AggregationKind Kind { get; }
    public double[] Bounds { get; }
    /// <summary><see cref="Bounds"/> as <c>le</c> label values, formatted once.</summary>
    public string[] BoundLabels { get; }
    public int MaxSeries { get; }

    /// <summary>True once a label set was dropped because the instrument reached <see cref="MaxSeries"/>.</summary>
    public bool Overflowed { get; private set; }

    public MetricSeries[] Series => Volatile.Read(ref _series);

    public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var series = Find(tags) ?? Add(tags);
        if (series is null) return;
        switch (Kind)
        {
            case AggregationKind.Sum: series.Add(value); break;
            case AggregationKind.LastValue: series.Set(value); break;
            default: series.RecordHistogram(value, Bounds); break;
        }
    }

    private MetricSeries? Find(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var snapshot = Volatile.Read(ref _series);
        for (int i = 0; i < snapshot.Length; i++)
        {
            if (snapshot[i].Matches(tags)) return snapshot[i];
        }
        return null;
    }

    private MetricSeries? Add(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        lock (_gate)
        {
            var existing = Find(tags);
            if (existing is not null) return existing;
            if (_series.Length >= MaxSeries)
            {
                // A runaway label (an id used as a tag) must not grow memory without bound.
                Overflowed = true;
                return null;
            }
            var created = new MetricSeries(tags.ToArray(), Kind == AggregationKind.Histogram ? Bounds.Length : 0);
            var next = new MetricSeries[_series.Length + 1];
            Array.Copy(_series, next, _series.Length);
            next[^1] = created;
            Volatile.Write(ref _series, next);
            return created;
        }
    }
}
