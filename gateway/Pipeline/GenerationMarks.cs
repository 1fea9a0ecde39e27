using System.Collections.Concurrent;

namespace Gateway.Pipeline;

/// <summary>
/// Which keys were marked (invalidated, evicted) since a given moment: for work that began before a mark and finishes
/// after it, such as a lookup whose answer may predate an invalidation, and must then not be cached.
/// <para>A moment is a generation: a counter each mark raises. Read <see cref="Current"/> before the work starts, ask
/// <see cref="MarkedSince"/> after it; mark before evicting, and check again after storing, so a mark racing a store is
/// either seen or evicts what was stored. Marks older than <c>window</c> (longer than any such work runs) are pruned at
/// most once per window; work that began before the newest pruned mark counts as overtaken, which costs it a cache
/// fill, never a stale entry.</para>
/// </summary>
internal sealed class GenerationMarks<TKey>(TimeSpan window, IEqualityComparer<TKey>? comparer = null) where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, Marked> _marks = new(comparer);
    private readonly long _windowMs = (long)window.TotalMilliseconds;
    private long _generation;
    private long _prunedThrough;
    private long _lastPruneMs = Environment.TickCount64;
    private int _pruning;

    private readonly record struct Marked(long Generation, long AtMs);

    /// <summary>The current generation.</summary>
    public long Current => Volatile.Read(ref _generation);

    /// <summary>Marks <paramref name="key"/> now.</summary>
    public void Mark(TKey key)
    {
        // Two marks of one key can store in the other order than they took their generations (messages are handled
        // concurrently): keep the newer, or work that began between them would read as not overtaken by the second.
        var marked = new Marked(Interlocked.Increment(ref _generation), Environment.TickCount64);
        _marks.AddOrUpdate(key, static (_, m) => m, static (_, old, m) => old.Generation > m.Generation ? old : m, marked);
        PruneWhenDue();
    }

    /// <summary>True when <paramref name="key"/> was marked after generation <paramref name="since"/>.</summary>
    public bool MarkedSince(TKey key, long since) =>
        since < Volatile.Read(ref _prunedThrough) || (_marks.TryGetValue(key, out var mark) && mark.Generation > since);

    private void PruneWhenDue()
    {
        long now = Environment.TickCount64;
        if (now - Volatile.Read(ref _lastPruneMs) < _windowMs || Interlocked.Exchange(ref _pruning, 1) == 1) return;
        try
        {
            Volatile.Write(ref _lastPruneMs, now);
            long newestPruned = 0;
            foreach (var (key, mark) in _marks)
            {
                if (now - mark.AtMs >= _windowMs && _marks.TryRemove(new KeyValuePair<TKey, Marked>(key, mark)))
                    newestPruned = Math.Max(newestPruned, mark.Generation);
            }
            if (newestPruned > Volatile.Read(ref _prunedThrough)) Volatile.Write(ref _prunedThrough, newestPruned);
        }
        finally { Volatile.Write(ref _pruning, 0); }
    }
}
