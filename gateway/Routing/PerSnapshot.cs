namespace Gateway.Routing;

/// <summary>
/// A value derived from a route-class snapshot (the rate-limit rules, the cache policies), built once per snapshot and
/// never per request. Keeps the two most recent: for the moment a reload takes, requests matched on the previous file's
/// routes still look their policies up in that file (<see cref="Pipeline.GatewayRequestFeature.Snapshot"/>).
/// </summary>
internal sealed class PerSnapshot<T>(Func<RouteClassSnapshot, T> build) where T : class
{
    // One object per entry, swapped as a reference: a reader never pairs one snapshot with another's value.
    private sealed record Entry(RouteClassSnapshot Snapshot, T Value);
    private volatile Entry? _latest;
    private volatile Entry? _older;

    public T For(RouteClassSnapshot snapshot)
    {
        var latest = _latest;
        if (latest is not null && ReferenceEquals(latest.Snapshot, snapshot)) return latest.Value;
        var older = _older;
        if (older is not null && ReferenceEquals(older.Snapshot, snapshot)) return older.Value;
        // Racing callers may each build it once; both results are equal.
        var entry = new Entry(snapshot, build(snapshot));
        _older = latest;
        _latest = entry;
        return entry.Value;
    }
}
