using System.Collections.Concurrent;

namespace Gateway.RateLimiting;

/// <summary>
/// The instance's <see cref="PartitionLease"/>s by policy and partition, bounded: there can be millions of partitions
/// (users, addresses). Entries whose tokens and rejection have expired are swept when the table is full or a sweep
/// interval has passed (the sweep runs on the request that adds an entry, at most one at a time). When the table is full
/// of live entries a new partition gets no entry and pays one Redis call per request, as before leases; that costs
/// calls, never exactness.
/// </summary>
internal sealed class LeaseTable(int maxEntries)
{
    private static readonly long SweepIntervalUs = (long)TimeSpan.FromSeconds(10).TotalMicroseconds;
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, PartitionLease>> _byPolicy = new(StringComparer.Ordinal);
    private int _count;
    private int _sweeping;
    private long _nextSweepUs;

    public int Count => Volatile.Read(ref _count);

    public PartitionLease? Get(RateLimitRule rule, string partition, long nowUs)
    {
        if (!_byPolicy.TryGetValue(rule.Name, out var byPartition))
            byPartition = _byPolicy.GetOrAdd(rule.Name, static _ => new(StringComparer.Ordinal));
        if (byPartition.TryGetValue(partition, out var lease)) return lease;

        if (nowUs >= Volatile.Read(ref _nextSweepUs) || Count >= maxEntries) Sweep(nowUs);
        if (Count >= maxEntries) return null;
        lease = new PartitionLease(rule.Algorithm == RateLimitAlgorithm.TokenBucket);
        var added = byPartition.GetOrAdd(partition, lease);
        if (ReferenceEquals(added, lease)) Interlocked.Increment(ref _count);
        return added;
    }

    private void Sweep(long nowUs)
    {
        if (Interlocked.Exchange(ref _sweeping, 1) == 1) return;
        try
        {
            Volatile.Write(ref _nextSweepUs, nowUs + SweepIntervalUs);
            foreach (var byPartition in _byPolicy.Values)
            {
                foreach (var entry in byPartition)
                {
                    bool expired;
                    lock (entry.Value) expired = !entry.Value.Leasing && entry.Value.ExpiresUs <= nowUs;
                    // Removing an entry a request still holds only loses its tokens (under-admission), never adds any.
                    if (expired && byPartition.TryRemove(entry)) Interlocked.Decrement(ref _count);
                }
            }
        }
        finally
        {
            Volatile.Write(ref _sweeping, 0);
        }
    }
}
