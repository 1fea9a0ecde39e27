using Gateway.Contracts;
using Gateway.Sessions;

namespace Gateway.Caching;

/// <summary>
/// Connects the session layer's invalidation bus (one Redis subscription per instance) to the response cache, so a
/// logout, password, profile or membership change evicts that user's or organisation's cached responses here too; and
/// when the subscription comes back after a loss, distrusts every entry written before (the messages published
/// meanwhile never arrive), as the session layer drops its L1 then.
/// </summary>
internal sealed partial class InvalidationCacheEvictor : InvalidationHandler
{
    private readonly ResponseCacheInvalidator _invalidator;
    private readonly ILogger<InvalidationCacheEvictor> _logger;

    public InvalidationCacheEvictor(IInvalidationBus bus, ResponseCacheInvalidator invalidator, ILogger<InvalidationCacheEvictor> logger,
        TieredOutputCacheStore store, TimeProvider time, Gateway.Redis.IRedisClient? redis = null) : base(bus)
    {
        _invalidator = invalidator;
        _logger = logger;
        if (redis is not null) redis.SubscriptionRestored += () => store.DistrustEntriesWrittenBefore(time.GetUtcNow());
    }

    internal override void OnInvalidated(InvalidationMessage message) => _ = EvictAsync(message);

    private async Task EvictAsync(InvalidationMessage message)
    {
        try { await _invalidator.OnInvalidationAsync(message.Kind, message.UserId, message.OrgId).ConfigureAwait(false); }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The store degrades on Redis errors itself; anything else must not kill the subscription thread.
            Log.EvictFailed(_logger, message.Kind, ex.GetType().Name);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(2301, LogLevel.Warning, "Evicting cached responses for a '{Kind}' invalidation failed ({Error}); entries expire by TTL.", EventName = "CacheEvictFailed")]
        public static partial void EvictFailed(ILogger logger, string kind, string error);
    }
}
