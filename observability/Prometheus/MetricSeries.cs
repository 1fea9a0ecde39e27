namespace Gateway.Observability.Prometheus;

/// <summary>
/// One time series of one instrument: its label set and its running aggregate. Updated with Interlocked operations
/// only, so recording threads never take a lock once the series exists.
/// </summary>
internal sealed class MetricSeries
{
    private double _value;
    private double _sum;
    private long _count;
    private readonly long[]? _buckets;

    public MetricSeries(KeyValuePair<string, object?>[] tags, int bucketCount)
    {
        Tags = tags;
        LabelText = PrometheusTextWriter.FormatLabels(tags);
        _buckets = bucketCount > 0 ? new long[bucketCount + 1] : null;
    }

    /// <summary>The label set, as recorded (original values, so lookups compare without formatting).</summary>
    public KeyValuePair<string, object?>[] Tags { get; }

    /// <summary>The label set as exposition text, without braces; empty for no labels.</summary>
    public string LabelText { get; }

    public double Value => Volatile.Read(ref _value);
    public double Sum => Volatile.Read(ref _sum);
    public long Count => Interlocked.Read(ref _count);

    /// <summary>Raw (non-cumulative) bucket counts; the last slot is the +Inf overflow.</summary>
    public long BucketCount(int index) => Interlocked.Read(ref _buckets![index]);

    public void Add(double delta) => AddDouble(ref _value, delta);

    public void Set(double value) => Volatile.Write(ref _value, value);

    public void RecordHistogram(double value, double[] bounds)
    {
        // Bounds are few (about 16): a linear scan beats a binary search at this size.
        int i = 0;
        while (i < bounds.Length && value > bounds[i]) i++;
        Interlocked.Increment(ref _buckets![i]);
        Interlocked.Increment(ref _count);
        AddDouble(ref _sum, value);
    }

    /// <summary>True when the measurement's tags are exactly this series' tags, in any order.</summary>
    public bool Matches(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length != Tags.Length) return false;
        for (int i = 0; i < tags.Length; i++)
        {
            var wanted = tags[i];
            bool found = false;
            for (int j = 0; j < Tags.Length; j++)
            {
                if (string.Equals(Tags[j].Key, wanted.Key, StringComparison.Ordinal))
                {
                    found = Equals(Tags[j].Value, wanted.Value);
                    break;
                }
            }
            if (!found) return false;
        }
        return true;
    }

    private static void AddDouble(ref double target, double delta)
    {
        double current = Volatile.Read(ref target);
        while (true)
        {
            double seen = Interlocked.CompareExchange(ref target, current + delta, current);
            // Compare bit patterns: NaN never equals itself and would spin forever.
            if (BitConverter.DoubleToInt64Bits(seen) == BitConverter.DoubleToInt64Bits(current)) return;
            current = seen;
        }
    }
}
