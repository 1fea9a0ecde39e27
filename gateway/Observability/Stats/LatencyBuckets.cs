namespace Gateway.Observability;

/// <summary>
/// Fixed log-spaced latency buckets for <see cref="RollingStats"/>: from 10 µs, each bound 15% above the previous, up
/// to about 60 s. A percentile read from them is within 15% of the true value, plenty to compare against a budget.
/// </summary>
internal static class LatencyBuckets
{
    private const double FirstBoundMs = 0.01;
    private const double Growth = 1.15;

    /// <summary>Upper bounds in milliseconds; values above the last go to an overflow bucket at index Count-1.</summary>
    public static readonly double[] UpperBoundsMs = Build();

    public static int Count => UpperBoundsMs.Length + 1;

    public static int IndexOf(double milliseconds)
    {
        if (milliseconds <= FirstBoundMs) return 0;
        int index = (int)Math.Ceiling(Math.Log(milliseconds / FirstBoundMs) / Math.Log(Growth));
        // Guard against rounding at exact boundaries.
        if (index > 0 && index - 1 < UpperBoundsMs.Length && milliseconds <= UpperBoundsMs[index - 1]) index--;
        return Math.Min(index, UpperBoundsMs.Length);
    }

    /// <summary>A representative value for a bucket: the geometric middle of its bounds.</summary>
    public static double Representative(int index)
    {
        if (index == 0) return FirstBoundMs;
        if (index >= UpperBoundsMs.Length) return UpperBoundsMs[^1];
        return Math.Sqrt(UpperBoundsMs[index - 1] * UpperBoundsMs[index]);
    }

    private static double[] Build()
    {
        var bounds = new List<double>();
        for (double b = FirstBoundMs; b < 60_000; b *= Growth) bounds.Add(b);
        return [.. bounds];
    }
}
