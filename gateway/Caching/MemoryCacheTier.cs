using System.Collections.Concurrent;

namespace Gateway.Caching;

/// <summary>
/// The in-process L1: entries with an absolute expiry and their tags, bounded by entry count and bytes, plus a tag
/// index so eviction by tag does not scan. When full (after dropping expired entries) new entries are simply not kept
/// in L1 — they still live in L2. Dropping expired entries visits every entry, so a full tier does it at most once per
/// <see cref="SweepInterval"/>, not on every store: at 10,000 live entries each store of a miss paid that scan.
/// The count is kept beside the dictionary: <c>ConcurrentDictionary.Count</c> takes every one of its locks.
/// An entry expires by the wall clock (the expiry its L2 copy carries) or when its lifetime has run out on the monotonic
/// clock, whichever comes first: a wall clock stepped back (an NTP correction) cannot keep a user's cached response past
/// its bound, as it cannot an L1 session (<c>L1SessionCache</c>).
/// </summary>
internal sealed class MemoryCacheTier
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly Pipeline.GroupIndex<string, string> _tags = new(StringComparer.Ordinal, StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly int _maxEntries;
    private readonly long _maxBytes;
    private long _bytes;
    private int _count;
    private long _nextSweepAt = long.MinValue;   // a GetTimestamp() value
    private int _sweeps;

    /// <summary>How long a full tier waits after one sweep for expired entries before the next.</summary>
    public static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(1);

    public MemoryCacheTier(TimeProvider time, int maxEntries, long maxBytes)
    {
        _time = time;
        _maxEntries = maxEntries;
        _maxBytes = maxBytes;
    }

    public int Count => Volatile.Read(ref _count);

    /// <summary>Tags with at least one entry (tests: a tag's set leaves the index with its last entry).</summary>
    internal int TagCount => _tags.Count;

    /// <summary>Sweeps for expired entries so far (tests: a full tier must not sweep on every store).</summary>
    internal int Sweeps => Volatile.Read(ref _sweeps);

    public byte[]? Get(string key)
    {
        if (!_entries.TryGetValue(key, out var entry)) return null;
        if (entry.ExpiresAt > _time.GetUtcNow() && _time.GetTimestamp() < entry.Deadline) return entry.Value;
        Remove(key);
        return null;
    }

    public void Set(string key, byte[] value, string[] tags, DateTimeOffset expiresAt)
    {
        if (Full(value.Length))
        {
            SweepExpired();
            if (Full(value.Length)) return;
        }
        Remove(key);
        var lifetime = expiresAt - _time.GetUtcNow();
        var entry = new Entry(value, tags, expiresAt, _time.GetTimestamp() + (long)(lifetime.TotalSeconds * _time.TimestampFrequency));
        if (!_entries.TryAdd(key, entry)) return;
        Interlocked.Increment(ref _count);
        Interlocked.Add(ref _bytes, value.Length);
        foreach (var tag in tags) _tags.Add(tag, key);
    }

    /// <summary>Removes every entry carrying <paramref name="tag"/>.</summary>
    public void EvictTag(string tag)
    {
        foreach (var key in _tags.RemoveGroup(tag)) Remove(key);
    }

    public void Remove(string key)
    {
        if (!_entries.TryRemove(key, out var entry)) return;
        Interlocked.Decrement(ref _count);
        Interlocked.Add(ref _bytes, -entry.Value.Length);
        // Tags are per principal (user, session): a tag's group leaves the index with its last key (GroupIndex).
        foreach (var tag in entry.Tags)
            _tags.Remove(tag, key, static s => s.Entries.TryGetValue(s.Key, out var stored) && Array.IndexOf(stored.Tags, s.Tag) >= 0,
                (Entries: _entries, Key: key, Tag: tag));
    }

    /// <summary>Removes every entry (the invalidation subscription came back: any of them may have missed its eviction).</summary>
    public void Clear()
    {
        foreach (var key in _entries.Keys) Remove(key);
    }

    private bool Full(int adding) => Count >= _maxEntries || Interlocked.Read(ref _bytes) + adding > _maxBytes;

    /// <summary>Drops expired entries, unless another store did within <see cref="SweepInterval"/> (or is doing it now).</summary>
    private void SweepExpired()
    {
        // Paced on the monotonic clock: a wall clock stepped back must not hold off the next sweep.
        long timestamp = _time.GetTimestamp();
        long next = Interlocked.Read(ref _nextSweepAt);
        long after = timestamp + (long)(SweepInterval.TotalSeconds * _time.TimestampFrequency);
        if (timestamp < next || Interlocked.CompareExchange(ref _nextSweepAt, after, next) != next) return;
        Interlocked.Increment(ref _sweeps);
        var now = _time.GetUtcNow();
        foreach (var (key, entry) in _entries)
            if (entry.ExpiresAt <= now || entry.Deadline <= timestamp) Remove(key);
    }

    /// <param name="deadline">The same lifetime on the monotonic clock (<see cref="TimeProvider.GetTimestamp"/>).</param>
    private sealed class Entry(byte[] value, string[] tags, DateTimeOffset expiresAt, long deadline)
    {
        public readonly byte[] Value = value;
        public readonly string[] Tags = tags;
        public readonly DateTimeOffset ExpiresAt = expiresAt;
        public readonly long Deadline = deadline;
    }
}
