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
    // Keyed by everything that decides what a leased token means: one policy name carries several rules at once (the
    // login policy's devices rule has five times its limit), and a reload that changes a limit, window or burst starts
    // a new table, so tokens leased under the old values are never spent under the new ones (until 2026-12-05 a lowered
    // limit still admitted the up to 100 tokens an instance held per partition, and a raised one repeated the old cached
    // rejection). The old table's entries expire with their leases and are swept; Redis already counts what was leased.
    private readonly ConcurrentDictionary<PolicyKey, PolicyLeases> _byPolicy = new();
    private int _count;
    private int _sweeping;
    private long _lastSweepUs;
    private long _nextSweepUs;

    public int Count => Volatile.Read(ref _count);

    public PartitionLease? Get(RateLimitRule rule, string partition, long nowUs)
    {
        var policy = _byPolicy.GetOrAdd(PolicyKey.Of(rule), static _ => new PolicyLeases());
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
        _byPolicy.TryGetValue(PolicyKey.Of(rule), out var policy) && policy.BySpan.TryGetValue(partition, out var lease) ? lease : null;

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

    private readonly record struct PolicyKey(string Name, RateLimitAlgorithm Algorithm, int Limit, TimeSpan Window, int? Burst)
    {
        public static PolicyKey Of(RateLimitRule rule) => new(rule.Name, rule.Algorithm, rule.Limit, rule.Window, rule.Burst);
    }

    private sealed class PolicyLeases
    {
        public PolicyLeases() => BySpan = Partitions.GetAlternateLookup<ReadOnlySpan<char>>();

        public ConcurrentDictionary<string, PartitionLease> Partitions { get; } = new(StringComparer.Ordinal);
        /// <summary>The same partitions, found by a key the caller formatted on the stack (<see cref="Find"/>).</summary>
        public ConcurrentDictionary<string, PartitionLease>.AlternateLookup<ReadOnlySpan<char>> BySpan { get; }
    }
}
