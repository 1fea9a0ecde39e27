namespace Gateway.Observability.Prometheus;

/// <summary>
/// An immutable open-addressing table from a label set to its series. Built once per new label set (under the
/// aggregator's lock) and read without locks by every measurement. The hash does not depend on the order of the labels,
/// as <see cref="MetricSeries.Matches"/> does not; equal hashes are confirmed with <see cref="MetricSeries.Matches"/>.
/// </summary>
internal sealed class SeriesIndex
{
    public static readonly SeriesIndex Empty = new([], [], []);

    // Slots hold a series' position in Series plus one (0: empty); a table is at most half full, so a probe ends.
    private readonly int[] _slots;
    private readonly int[] _hashes;

    private SeriesIndex(MetricSeries[] series, int[] hashes, int[] slots)
    {
        Series = series;
        _hashes = hashes;
        _slots = slots;
    }

    public MetricSeries[] Series { get; }

    /// <summary>The same value for the same labels in any order; consistent with <see cref="MetricSeries.Matches"/> (Equals).</summary>
    public static int Hash(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        uint hash = (uint)tags.Length;
        foreach (var tag in tags)   // a sum: order does not matter
            hash += (uint)tag.Key.Length * 0x9E3779B1 + (tag.Value is string text ? Sample(text) : (uint)(tag.Value?.GetHashCode() ?? 0));
        return (int)hash;
    }

    // The length and three characters, not every character: a full string hash of the labels cost more than the scan it
    // replaces for a few series. Values come from code and configuration (class names, status classes, operations), which
    // differ in length or at an end; a collision costs one more probe, since every candidate is confirmed with Matches.
    private static uint Sample(string text)
    {
        if (text.Length == 0) return 0;
        uint hash = (uint)text.Length;
        hash = hash * 31 + text[0];
        hash = hash * 31 + text[text.Length >> 1];
        hash = hash * 31 + text[^1];
        return hash * 0x85EBCA6B;
    }

    public MetricSeries? Find(ReadOnlySpan<KeyValuePair<string, object?>> tags, int hash)
    {
        var slots = _slots;
        if (slots.Length == 0) return null;
        int mask = slots.Length - 1;
        for (int i = hash & mask; ; i = (i + 1) & mask)
        {
            int slot = slots[i];
            if (slot == 0) return null;
            var candidate = Series[slot - 1];
            if (_hashes[slot - 1] == hash && candidate.Matches(tags)) return candidate;
        }
    }

    /// <summary>A new index with <paramref name="series"/> added (the caller checked it is not present).</summary>
    public SeriesIndex With(MetricSeries series, int hash)
    {
        var all = new MetricSeries[Series.Length + 1];
        Array.Copy(Series, all, Series.Length);
        all[^1] = series;
        var hashes = new int[all.Length];
        Array.Copy(_hashes, hashes, _hashes.Length);
        hashes[^1] = hash;
        var slots = new int[Math.Max(8, (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)all.Length * 2))];
        int mask = slots.Length - 1;
        for (int s = 0; s < all.Length; s++)
        {
            int i = hashes[s] & mask;
            while (slots[i] != 0) i = (i + 1) & mask;
            slots[i] = s + 1;
        }
        return new SeriesIndex(all, hashes, slots);
    }
}
