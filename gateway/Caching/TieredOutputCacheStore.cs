using Gateway.Observability;
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

        bool evicting = Volatile.Read(ref _evicting) != 0;
        long evictions = Interlocked.Read(ref _evictions);
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
        if (wire is null || !CacheEntryFormat.TryRead(wire, out var payload, out var tags, out var expiresAt) || expiresAt <= now)
        {
            _metrics?.RecordCacheLookup("response", "l2", hit: false);
            return null;
        }
        _metrics?.RecordCacheLookup("response", "l2", hit: true);
        if (!evicting && Volatile.Read(ref _evicting) == 0 && Interlocked.Read(ref _evictions) == evictions)
            _l1.Set(key, payload, tags, Min(expiresAt, now + _l1MaxTtl));
        return payload;
    }

    public async ValueTask SetAsync(string key, byte[] value, string[]? tags, TimeSpan validFor, CancellationToken cancellationToken)
    {
        tags ??= [];
        var now = _time.GetUtcNow();
        var expiresAt = now + validFor;
        _l1.Set(key, value, tags, Min(expiresAt, now + _l1MaxTtl));
        if (!L2Usable) return;
        try
        {
            // The package writes the entry, then its tags (fire-and-forget); Redis expires the entry after validFor.
            await _l2!.SetAsync(key, CacheEntryFormat.Write(value, tags, expiresAt), tags, validFor, cancellationToken)
                .AsTask().WaitAsync(_l2Timeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { throw; }
        catch (Exception ex) when (ex is not OutOfMemoryException) { Failed("set", ex); }
    }

    public async ValueTask EvictByTagAsync(string tag, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _evicting);
        try
        {
            _l1.EvictTag(tag);
            if (!L2Usable) return;
            // Not time-boxed like a read: a large tag set takes several ZSCAN pages, and nobody waits on it per request.
            try { await _l2!.EvictByTagAsync(tag, cancellationToken).ConfigureAwait(false); }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { throw; }
            catch (Exception ex) when (ex is not OutOfMemoryException) { Failed("evict", ex); }
        }
        finally
        {
            // Completed before leaving: a reader that sees no eviction in progress then sees the count moved.
            Interlocked.Increment(ref _evictions);
            Interlocked.Decrement(ref _evicting);
        }
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
    }
}
