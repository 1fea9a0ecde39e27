using System.Collections.Concurrent;
using System.Globalization;
using Gateway.Observability;
using Gateway.Pipeline;
using Gateway.Redis;
using Microsoft.AspNetCore.OutputCaching;
using Microsoft.Extensions.Options;

namespace Gateway.Caching;

/// <summary>
/// <see cref="IOutputCacheStore"/> with an in-process L1 in front of an L2 store: in the gateway the Redis store of
/// <c>Microsoft.AspNetCore.OutputCaching.StackExchangeRedis</c> (entries, tag sets, tag eviction and their clean-up are
/// the package's). What stays ours: the L1, the <see cref="CacheEntryFormat"/> envelope (expiry on our clock, and the
/// tags, so an instance that loads an entry from L2 can index it in its L1 for eviction) and the fault handling: any
/// L2 failure or time-out is a cache miss, never an error, and it opens the gateway's Redis breaker, so while Redis is
/// known down the L2 is not even asked. With no L2 it is an L1-only store.
/// <para>Evictions hold under faults and races:</para>
/// <list type="bullet">
/// <item>A response computed before an eviction of one of its tags is not stored after it: the policy passes the
///   eviction generation its request began at as a reserved tag (<see cref="SinceTag"/>), and an entry stored while such
///   an eviction ran is evicted again.</item>
/// <item>An eviction that could not reach Redis (breaker open, an error) is remembered: until it is replayed there, an
///   L2 entry carrying that tag is a miss on this instance, and the replay runs as soon as Redis is usable again.</item>
/// </list>
/// </summary>
internal sealed partial class TieredOutputCacheStore : IOutputCacheStore
{
    private readonly MemoryCacheTier _l1;
    private readonly IOutputCacheStore? _l2;
    private readonly IRedisClient? _breaker;
    private readonly TimeProvider _time;
    private readonly TimeSpan _l1MaxTtl;
    private readonly TimeSpan _l2Timeout;
    private readonly ILogger<TieredOutputCacheStore> _logger;
    private readonly GatewayMetrics? _metrics;
    private long _lastDegradedLog = long.MinValue;
    // Evictions in progress and completed: an L2 read that overlapped an eviction may hold an entry the eviction has
    // deleted from Redis since, so it must not refill L1 (where it would outlive the eviction by up to L1MaxTtl).
    private int _evicting;
    private long _evictions;
    // Longer than any request runs from its cache lookup to its store (class timeouts are seconds).
    private readonly GenerationMarks<string> _evicted = new(TimeSpan.FromMinutes(10), StringComparer.Ordinal);
    // Replays of evictions Redis missed, apart from _evicted: only reads consult them (a read racing a replay may hold
    // the copy it deletes); stores racing a replay are not the change's and need not be dropped and evicted again.
    private readonly GenerationMarks<string> _replayed = new(TimeSpan.FromMinutes(1), StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _pendingL2 = new(StringComparer.Ordinal);
    private int _pendingCount;
    private int _replaying;
    private long _longestValidForTicks;
    private long _l2ReadsSuspendedUntilTicks;

    /// <summary>Most evictions remembered for replay; past it, L2 reads are misses until every entry written before has expired.</summary>
    internal const int MaxPendingL2Evictions = 100_000;
    private const string SincePrefix = "\u0001since:";

    /// <summary>The eviction generation now: what a request's cache state records when it begins.</summary>
    public long EvictionGeneration => _evicted.Current;

    /// <summary>The reserved tag carrying the generation a request began at into <see cref="SetAsync"/> (never stored).</summary>
    public static string SinceTag(long generation) => SincePrefix + generation.ToString(CultureInfo.InvariantCulture);

    /// <summary>Evictions waiting to be replayed on L2.</summary>
    internal int PendingL2Evictions => Volatile.Read(ref _pendingCount);

    /// <param name="l2">The Redis tier; null for an L1-only store.</param>
    /// <param name="breaker">Whose breaker guards <paramref name="l2"/> (the client that lent it its multiplexer).</param>
    /// <param name="l2Timeout">Time-box of an L2 read or write (the gateway passes <c>Redis:OperationTimeout</c>).</param>
    public TieredOutputCacheStore(IOptions<ResponseCachingOptions> options, TimeProvider time, ILogger<TieredOutputCacheStore> logger,
        IOutputCacheStore? l2 = null, IRedisClient? breaker = null, TimeSpan? l2Timeout = null, GatewayMetrics? metrics = null)
    {
        var o = options.Value;
        _l1 = new MemoryCacheTier(time, o.L1MaxEntries, o.L1MaxBytes);
        _l1MaxTtl = o.L1MaxTtl;
        _l2 = l2;
        _breaker = breaker;
        _l2Timeout = l2Timeout ?? TimeSpan.FromMilliseconds(250);
        _time = time;
        _logger = logger;
        _metrics = metrics;
    }

    internal MemoryCacheTier L1 => _l1;

    private bool L2Usable => _l2 is not null && _breaker?.IsAvailable != false;

    public async ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken)
    {
        using var span = GatewayTracing.StartStage(GatewayStage.CacheLookup);
        if (_l1.Get(key) is { } local) { _metrics?.RecordCacheLookup("response", "l1", hit: true); return local; }
        _metrics?.RecordCacheLookup("response", "l1", hit: false);
        if (!L2Usable) return null;
        ReplayPendingEvictions();

        bool evicting = Volatile.Read(ref _evicting) != 0;
        long evictions = Interlocked.Read(ref _evictions);
        long since = _evicted.Current, replaySince = _replayed.Current;
        byte[]? wire;
        try
        {
            var pending = _l2!.GetAsync(key, cancellationToken);
            wire = pending.IsCompletedSuccessfully ? pending.Result
                : await pending.AsTask().WaitAsync(_l2Timeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { throw; }
        catch (Exception ex) when (ex is not OutOfMemoryException) { Failed("get", ex); return null; }

        var now = _time.GetUtcNow();
        // Expiry is checked on our clock too: Redis's TTL and our TimeProvider may disagree by a little.
        // An entry one of whose tags was evicted (or an eviction of it replayed on Redis) while this read ran may be the
        // copy that eviction removed: a miss. Seen in CI: the replay deleted the entry and cleared the pending tag between
        // this read and the pending check, and the stale copy the read had got was served.
        if (wire is null || !CacheEntryFormat.TryRead(wire, out var payload, out var tags, out var expiresAt, out var writtenAt) || expiresAt <= now
            || writtenAt.UtcTicks < Interlocked.Read(ref _distrustedBeforeTicks)
            || PendingOnL2(tags, now) || EvictedSince(tags, since) || ReplayedSince(tags, replaySince))
        {
            _metrics?.RecordCacheLookup("response", "l2", hit: false);
            return null;
        }
        _metrics?.RecordCacheLookup("response", "l2", hit: true);
        if (!evicting && Volatile.Read(ref _evicting) == 0 && Interlocked.Read(ref _evictions) == evictions)
        {
            _l1.Set(key, payload, tags, Min(expiresAt, now + _l1MaxTtl));
            // An eviction that began after the check above may have swept L1 before this copy landed: it marks its tag
            // before sweeping, so either it sweeps after the store or the mark is seen here.
            if (EvictedSince(tags, since)) _l1.Remove(key);
        }
        return payload;
    }

    public async ValueTask SetAsync(string key, byte[] value, string[]? tags, TimeSpan validFor, CancellationToken cancellationToken)
    {
        var entryTags = tags ?? [];
        long since = TakeSince(ref entryTags);
        // Computed before an eviction of one of its tags: it may predate the change the eviction announced.
        if (EvictedSince(entryTags, since)) return;
        var now = _time.GetUtcNow();
        var expiresAt = now + validFor;
        RaiseLongestValidFor(validFor);
        _l1.Set(key, value, entryTags, Min(expiresAt, now + _l1MaxTtl));
        if (EvictedSince(entryTags, since)) { _l1.Remove(key); return; }   // an eviction swept L1 between the check and the store
        if (L2Usable)
        {
            ReplayPendingEvictions();
            try
            {
                // The package writes the entry, then its tags (fire-and-forget); Redis expires the entry after validFor.
                await _l2!.SetAsync(key, CacheEntryFormat.Write(value, entryTags, expiresAt, now), entryTags, validFor, cancellationToken)
                    .AsTask().WaitAsync(_l2Timeout, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { throw; }
            catch (Exception ex) when (ex is not OutOfMemoryException) { Failed("set", ex); }
        }
        // An eviction that ran while this was stored may have missed it: evict again what it meant to evict.
        foreach (var tag in entryTags)
            if (_evicted.MarkedSince(tag, since)) await EvictByTagAsync(tag, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Strips the reserved <see cref="SinceTag"/>; returns its generation, else the current one (a caller without it).</summary>
    private long TakeSince(ref string[] tags)
    {
        int at = Array.FindIndex(tags, t => t.StartsWith(SincePrefix, StringComparison.Ordinal));
        if (at < 0) return _evicted.Current;
        long since = long.Parse(tags[at].AsSpan(SincePrefix.Length), CultureInfo.InvariantCulture);
        tags = [.. tags[..at], .. tags[(at + 1)..]];
        return since;
    }

    private bool EvictedSince(string[] tags, long since)
    {
        foreach (var tag in tags) if (_evicted.MarkedSince(tag, since)) return true;
        return false;
    }

    private bool ReplayedSince(string[] tags, long since)
    {
        if (_replayed.Current == since) return false;   // the common case: no replay ran during the read
        foreach (var tag in tags) if (_replayed.MarkedSince(tag, since)) return true;
        return false;
    }

    private long _distrustedBeforeTicks = long.MinValue;

    /// <summary>
    /// The invalidation subscription came back after a loss: the evictions published meanwhile never arrived, so any
    /// entry written before now may be one of them. L1 is emptied and Redis entries written before now are misses here
    /// (they expire by their own TTL). Without it, an L1 entry lived at most <c>L1MaxTtl</c>, but was then copied back
    /// from its Redis copy, which lives for the policy's TTL (up to a day): the missed eviction lasted that long.
    /// Other instances distrust on their own subscription's return: each lost the same messages.
    /// </summary>
    public void DistrustEntriesWrittenBefore(DateTimeOffset now)
    {
        long ticks = now.UtcTicks;
        long seen = Interlocked.Read(ref _distrustedBeforeTicks);
        while (ticks > seen)
        {
            long found = Interlocked.CompareExchange(ref _distrustedBeforeTicks, ticks, seen);
            if (found == seen) break;
            seen = found;
        }
        _l1.Clear();
    }

    public async ValueTask EvictByTagAsync(string tag, CancellationToken cancellationToken)
    {
        _evicted.Mark(tag);   // first: a store racing this eviction sees the mark, or is evicted below
        Interlocked.Increment(ref _evicting);
        try
        {
            _l1.EvictTag(tag);
            if (_l2 is null) return;
            if (!L2Usable) { RememberForL2(tag); return; }
            // Not time-boxed like a read: a large tag set takes several ZSCAN pages, and nobody waits on it per request.
            try { await _l2.EvictByTagAsync(tag, cancellationToken).ConfigureAwait(false); }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { RememberForL2(tag); throw; }
            catch (Exception ex) when (ex is not OutOfMemoryException) { Failed("evict", ex); RememberForL2(tag); }
        }
        finally
        {
            // Completed before leaving: a reader that sees no eviction in progress then sees the count moved.
            Interlocked.Increment(ref _evictions);
            Interlocked.Decrement(ref _evicting);
        }
    }

    /// <summary>
    /// An eviction Redis did not get. Every instance received the same message, so each remembers and replays it; past
    /// <see cref="MaxPendingL2Evictions"/> tags, this instance stops reading L2 until every entry written so far expired.
    /// </summary>
    private void RememberForL2(string tag)
    {
        if (Volatile.Read(ref _pendingCount) >= MaxPendingL2Evictions)
        {
            long until = (_time.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _longestValidForTicks))).UtcTicks;
            if (until > Interlocked.Read(ref _l2ReadsSuspendedUntilTicks)) Interlocked.Exchange(ref _l2ReadsSuspendedUntilTicks, until);
            Log.PendingEvictionsOverflow(_logger, MaxPendingL2Evictions);
            return;
        }
        if (_pendingL2.TryAdd(tag, 0)) Interlocked.Increment(ref _pendingCount);
    }

    /// <summary>An L2 entry this instance must not serve: one of its tags was evicted here but not yet on Redis.</summary>
    private bool PendingOnL2(string[] tags, DateTimeOffset now)
    {
        if (now.UtcTicks < Interlocked.Read(ref _l2ReadsSuspendedUntilTicks)) return true;
        if (Volatile.Read(ref _pendingCount) == 0) return false;
        foreach (var tag in tags) if (_pendingL2.ContainsKey(tag)) return true;
        return false;
    }

    /// <summary>Replays remembered evictions on L2, one replay at a time, in the background; stops at the first failure.</summary>
    private void ReplayPendingEvictions()
    {
        if (Volatile.Read(ref _pendingCount) == 0 || Interlocked.Exchange(ref _replaying, 1) == 1) return;
        _ = Task.Run(async () =>
        {
            try
            {
                foreach (var tag in _pendingL2.Keys)
                {
                    if (!L2Usable) return;
                    await _l2!.EvictByTagAsync(tag, CancellationToken.None).ConfigureAwait(false);
                    // Marked after Redis dropped the entries and before the tag stops being pending: a read that began
                    // before the deletion finds either the tag pending or this mark (GetAsync), never neither.
                    _replayed.Mark(tag);
                    if (_pendingL2.TryRemove(tag, out _)) Interlocked.Decrement(ref _pendingCount);
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException) { Failed("evict", ex); }
            finally { Volatile.Write(ref _replaying, 0); }
        });
    }

    private void RaiseLongestValidFor(TimeSpan validFor)
    {
        long ticks = validFor.Ticks, seen;
        while (ticks > (seen = Interlocked.Read(ref _longestValidForTicks)) && Interlocked.CompareExchange(ref _longestValidForTicks, ticks, seen) != seen) { }
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private void Failed(string operation, Exception ex)
    {
        _breaker?.ReportFailure(ex);
        Degraded(operation, ex.GetType().Name);
    }

    /// <summary>Logs at most once a minute: a Redis outage must not flood the log once per request.</summary>
    private void Degraded(string operation, string error)
    {
        long now = _time.GetTimestamp();
        long last = Interlocked.Read(ref _lastDegradedLog);
        if (last != long.MinValue && _time.GetElapsedTime(last, now) < TimeSpan.FromMinutes(1)) return;
        if (Interlocked.CompareExchange(ref _lastDegradedLog, now, last) == last) Log.L2Unavailable(_logger, operation, error);
    }

    private static partial class Log
    {
        [LoggerMessage(2201, LogLevel.Warning, "Output cache L2 (Redis) unavailable during {Operation} ({Error}): serving from the in-process L1 only.", EventName = "OutputCacheL2Unavailable")]
        public static partial void L2Unavailable(ILogger logger, string operation, string error);

        [LoggerMessage(2202, LogLevel.Error, "More than {Max} response-cache evictions could not reach Redis: this instance serves no cached response from Redis until every entry written so far has expired.", EventName = "OutputCacheEvictionsOverflow")]
        public static partial void PendingEvictionsOverflow(ILogger logger, int max);
    }
}
