using System.Collections.Concurrent;

namespace Gateway.Caching;

/// <summary>
/// The in-process L1: entries with an absolute expiry and their tags, bounded by entry count and bytes, plus a tag
/// index so eviction by tag does not scan. When full (after dropping expired entries) new entries are simply not kept
/// in L1 — they still live in L2.
/// </summary>
internal sealed class MemoryCacheTier
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, byte>> _tags = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly int _maxEntries;
    private readonly long _maxBytes;
    private long _bytes;

    public MemoryCacheTier(TimeProvider time, int maxEntries, long maxBytes)
    {
        _time = time;
        _maxEntries = maxEntries;
        _maxBytes = maxBytes;
    }

    public int Count => _entries.Count;

    public byte[]? Get(string key)
    {
        if (!_entries.TryGetValue(key, out var entry)) return null;
        if (entry.ExpiresAt > _time.GetUtcNow()) return entry.Value;
        Remove(key);
        return null;
    }

    public void Set(string key, byte[] value, string[] tags, DateTimeOffset expiresAt)
    {
        if (_entries.Count >= _maxEntries || Interlocked.Read(ref _bytes) + value.Length > _maxBytes)
        {
            SweepExpired();
            if (_entries.Count >= _maxEntries || Interlocked.Read(ref _bytes) + value.Length > _maxBytes) return;
        }
        Remove(key);
        var entry = new Entry(value, tags, expiresAt);
        if (!_entries.TryAdd(key, entry)) return;
        Interlocked.Add(ref _bytes, value.Length);
        foreach (var tag in tags) _tags.GetOrAdd(tag, static _ => new(StringComparer.Ordinal))[key] = 0;
    }

    /// <summary>Removes every entry carrying <paramref name="tag"/>.</summary>
    public void EvictTag(string tag)
    {
        if (!_tags.TryRemove(tag, out var keys)) return;
        foreach (var key in keys.Keys) Remove(key);
    }

    public void Remove(string key)
    {
        if (!_entries.TryRemove(key, out var entry)) return;
        Interlocked.Add(ref _bytes, -entry.Value.Length);
        foreach (var tag in entry.Tags)
            if (_tags.TryGetValue(tag, out var keys)) keys.TryRemove(key, out _);
    }

    private void SweepExpired()
    {
        var now = _time.GetUtcNow();
        foreach (var (key, entry) in _entries)
            if (entry.ExpiresAt <= now) Remove(key);
    }

    private sealed class Entry(byte[] value, string[] tags, DateTimeOffset expiresAt)
    {
        public readonly byte[] Value = value;
        public readonly string[] Tags = tags;
        public readonly DateTimeOffset ExpiresAt = expiresAt;
    }
}
