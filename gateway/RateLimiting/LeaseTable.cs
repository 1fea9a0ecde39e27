using System.Collections.Concurrent;

namespace Gateway.RateLimiting;

/// <summary>
/// The instance's <see cref="PartitionLease"/>s by policy and partition, bounded: there can be millions of partitions
/// (users, addresses). Entries with no live tokens, no rejection to repeat and no recent lease are swept every 10 s, and
/// at most once a second while the table is full (the sweep runs on the request that adds an entry, one at a time).
/// When the table is full of live entries a new partition gets no entry and pays one Redis call per request, as before
/// leases; that costs calls, never exactness.
/// </summary>
internal sealed class LeaseTable(int maxEntries)
{
    private static readonly long SweepIntervalUs = (long)TimeSpan.FromSeconds(10).TotalMicroseconds;
    private static readonly long FullSweepIntervalUs = (long)TimeSpan.FromSeconds(1).TotalMicroseconds;
    private readonly ConcurrentDictionary<string, PolicyLeases> _byPolicy = new(StringComparer.Ordinal);
    private int _count;
    private int _sweeping;
    private long _lastSweepUs;
    private long _nextSweepUs;

    public int Count => Volatile.Read(ref _count);

    public PartitionLease? Get(RateLimitRule rule, string partition, long nowUs)
    {
        if (!_byPolicy.TryGetValue(rule.Name, out var policy) || !policy.Counts(rule))
            policy = Replace(rule, policy);
        if (!policy.Counts(rule)) return null; // two reloads raced: no lease this time
        if (policy.Partitions.TryGetValue(partition, out var lease)) return lease;

        bool full = Count >= maxEntries;
        if (nowUs >= Volatile.Read(ref _nextSweepUs) || (full && nowUs >= Volatile.Read(ref _lastSweepUs) + FullSweepIntervalUs)) Sweep(nowUs);
        if (Count >= maxEntries) return null;
        lease = new PartitionLease(rule.Algorithm == RateLimitAlgorithm.TokenBucket);
        var added = policy.Partitions.GetOrAdd(partition, lease);
        if (ReferenceEquals(added, lease)) Interlocked.Increment(ref _count);
        return added;
    }

    /// <summary>
    /// The lease this instance already holds for a partition, found without the partition's string; null when there is
    /// none yet (<see cref="Get"/> creates it from the string).
    /// </summary>
    public PartitionLease? Find(RateLimitRule rule, ReadOnlySpan<char> partition) =>
        _byPolicy.TryGetValue(rule.Name, out var policy) && policy.Counts(rule)
        && policy.BySpan.TryGetValue(partition, out var lease) ? lease : null;

    /// <summary>
    /// A policy seen for the first time, or reloaded with another algorithm, limit, window or burst: its old leases were
    /// taken under the old rule and are dropped. (Until 2026-12-05 only an algorithm change dropped them: a limit lowered
    /// to stop abuse still admitted every token an instance held, up to a lease of 100 each for the rest of the window,
    /// and a limit raised kept repeating a rejection cached under the old one.) Redis already counts what was leased.
    /// </summary>
    private PolicyLeases Replace(RateLimitRule rule, PolicyLeases? old)
    {
        var fresh = new PolicyLeases(rule);
        if (old is null) return _byPolicy.GetOrAdd(rule.Name, fresh);
        if (_byPolicy.TryUpdate(rule.Name, fresh, old)) Interlocked.Add(ref _count, -old.Partitions.Count);
        return _byPolicy[rule.Name];
    }

    private void Sweep(long nowUs)
    {
        if (Interlocked.Exchange(ref _sweeping, 1) == 1) return;
        try
        {
            Volatile.Write(ref _lastSweepUs, nowUs);
            Volatile.Write(ref _nextSweepUs, nowUs + SweepIntervalUs);
            foreach (var policy in _byPolicy.Values)
            {
                foreach (var entry in policy.Partitions)
                {
                    bool expired;
                    lock (entry.Value) expired = !entry.Value.Leasing && entry.Value.ExpiresUs <= nowUs;
                    // Removing an entry a request still holds only loses its tokens (under-admission), never adds any.
                    if (expired && policy.Partitions.TryRemove(entry)) Interlocked.Decrement(ref _count);
                }
            }
        }
        finally
        {
            Volatile.Write(ref _sweeping, 0);
        }
    }

    private sealed class PolicyLeases
    {
        private readonly RateLimitRule _rule;

        public PolicyLeases(RateLimitRule rule)
        {
            _rule = rule;
            BySpan = Partitions.GetAlternateLookup<ReadOnlySpan<char>>();
        }

        /// <summary>Whether leases taken under this table's rule count for <paramref name="rule"/>: the same rule, or one
        /// a reload rebuilt unchanged (its name is the table's key).</summary>
        public bool Counts(RateLimitRule rule) => ReferenceEquals(rule, _rule)
            || (rule.Algorithm == _rule.Algorithm && rule.Limit == _rule.Limit && rule.Window == _rule.Window && rule.Burst == _rule.Burst);
        public ConcurrentDictionary<string, PartitionLease> Partitions { get; } = new(StringComparer.Ordinal);
        /// <summary>The same partitions, found by a key the caller formatted on the stack (<see cref="Find"/>).</summary>
        public ConcurrentDictionary<string, PartitionLease>.AlternateLookup<ReadOnlySpan<char>> BySpan { get; }
    }
}
