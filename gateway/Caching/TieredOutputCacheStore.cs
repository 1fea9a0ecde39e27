using Gateway.Observability;
using Gateway.Redis;
using Microsoft.AspNetCore.OutputCaching;
using Microsoft.Extensions.Options;
using LuaScript = Gateway.Redis.LuaScript;

namespace Gateway.Caching;

/// <summary>
/// <see cref="IOutputCacheStore"/> with an in-process L1 in front of Redis (L2): entries at <c>gw:v1:oc:{key}</c>,
/// tag sets at <c>gw:v1:oc-tag:{tag}</c> whose members are cache keys. Any Redis failure (reply not Ok) makes the
/// operation L1-only — a cache miss at worst, never an error. With no <see cref="IRedisClient"/> it is an L1-only store.
/// </summary>
internal sealed partial class TieredOutputCacheStore : IOutputCacheStore
{
    // Only raises the TTL of a tag set: a short-lived entry must not expire the tag record of a long-lived one.
    private static readonly LuaScript AddTag = new("""
        redis.call('SADD', KEYS[1], ARGV[1])
        if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
        return 1
        """);

    private readonly MemoryCacheTier _l1;
    private readonly IRedisClient? _redis;
    private readonly TimeProvider _time;
    private readonly TimeSpan _l1MaxTtl;
    private readonly ILogger<TieredOutputCacheStore> _logger;
    private long _lastDegradedLog = long.MinValue;
    // Evictions in progress and completed: a Redis read that overlapped an eviction may hold an entry the eviction has
    // deleted from Redis since, so it must not refill L1 (where it would outlive the eviction by up to L1MaxTtl).
    private int _evicting;
    private long _evictions;

    private readonly GatewayMetrics? _metrics;

    public TieredOutputCacheStore(IOptions<ResponseCachingOptions> options, TimeProvider time, ILogger<TieredOutputCacheStore> logger,
        IRedisClient? redis = null, GatewayMetrics? metrics = null)
    {
        _metrics = metrics;
        var o = options.Value;
        _l1 = new MemoryCacheTier(time, o.L1MaxEntries, o.L1MaxBytes);
        _l1MaxTtl = o.L1MaxTtl;
        _redis = redis;
        _time = time;
        _logger = logger;
    }

    internal MemoryCacheTier L1 => _l1;

    internal static string EntryKey(string key) => "gw:v1:oc:{" + key + "}";
    internal static string TagKey(string tag) => "gw:v1:oc-tag:{" + tag + "}";

    public async ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken)
    {
        using var span = GatewayTracing.StartStage(GatewayStage.CacheLookup);
        if (_l1.Get(key) is { } local) { _metrics?.RecordCacheLookup("response", "l1", hit: true); return local; }
        _metrics?.RecordCacheLookup("response", "l1", hit: false);
        if (_redis is null) return null;

        bool evicting = Volatile.Read(ref _evicting) != 0;
        long evictions = Interlocked.Read(ref _evictions);
        var reply = await _redis.GetBytesAsync(EntryKey(key)).ConfigureAwait(false);
        if (!reply.Ok) { Degraded("get"); return null; }
        byte[] payload = [];
        string[] tags = [];
        DateTimeOffset expiresAt = default;
        bool found = reply.Value is not null && CacheEntryFormat.TryRead(reply.Value, out payload, out tags, out expiresAt)
            && expiresAt > _time.GetUtcNow();
        _metrics?.RecordCacheLookup("response", "l2", found);
        if (!found) return null;
        if (!evicting && Volatile.Read(ref _evicting) == 0 && Interlocked.Read(ref _evictions) == evictions)
            _l1.Set(key, payload, tags, Min(expiresAt, _time.GetUtcNow() + _l1MaxTtl));
        return payload;
    }

    public async ValueTask SetAsync(string key, byte[] value, string[]? tags, TimeSpan validFor, CancellationToken cancellationToken)
    {
        tags ??= [];
        var now = _time.GetUtcNow();
        var expiresAt = now + validFor;
        _l1.Set(key, value, tags, Min(expiresAt, now + _l1MaxTtl));
        if (_redis is null) return;

        // Tags first: an entry in L2 must always be reachable from its tags, or an eviction could miss it.
        long ttlMs = (long)Math.Ceiling(validFor.TotalMilliseconds);
        foreach (var tag in tags)
        {
            var tagged = await _redis.EvaluateAsync(AddTag, [TagKey(tag)], [key, ttlMs]).ConfigureAwait(false);
            if (!tagged.Ok) { Degraded("tag"); return; }
        }
        var set = await _redis.SetAsync(EntryKey(key), CacheEntryFormat.Write(value, tags, expiresAt), validFor).ConfigureAwait(false);
        if (!set.Ok) Degraded("set");
    }

    public async ValueTask EvictByTagAsync(string tag, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _evicting);
        try
        {
            _l1.EvictTag(tag);
            if (_redis is null) return;

            var members = await _redis.SetMembersAsync(TagKey(tag)).ConfigureAwait(false);
            if (!members.Ok) { Degraded("evict"); return; }
            foreach (var key in members.Value!)
            {
                _l1.Remove(key);
                if (!(await _redis.DeleteAsync(EntryKey(key)).ConfigureAwait(false)).Ok) { Degraded("evict"); return; }
            }
            await _redis.DeleteAsync(TagKey(tag)).ConfigureAwait(false);
        }
        finally
        {
            // Completed before leaving: a reader that sees no eviction in progress then sees the count moved.
            Interlocked.Increment(ref _evictions);
            Interlocked.Decrement(ref _evicting);
        }
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    /// <summary>Logs at most once a minute: a Redis outage must not flood the log once per request.</summary>
    private void Degraded(string operation)
    {
        long now = _time.GetTimestamp();
        long last = Interlocked.Read(ref _lastDegradedLog);
        if (last != long.MinValue && _time.GetElapsedTime(last, now) < TimeSpan.FromMinutes(1)) return;
        if (Interlocked.CompareExchange(ref _lastDegradedLog, now, last) == last) Log.L2Unavailable(_logger, operation);
    }

    private static partial class Log
    {
        [LoggerMessage(2201, LogLevel.Warning, "Output cache L2 (Redis) unavailable during {Operation}: serving from the in-process L1 only.", EventName = "OutputCacheL2Unavailable")]
        public static partial void L2Unavailable(ILogger logger, string operation);
    }
}
