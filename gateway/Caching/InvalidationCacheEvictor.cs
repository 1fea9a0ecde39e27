using Gateway.Contracts;
using Gateway.Sessions;

namespace Gateway.Caching;

/// <summary>
/// Connects the session layer's invalidation bus (one Redis subscription per instance) to the response cache, so a
/// logout, password, profile or membership change evicts that user's or organisation's cached responses here too.
/// </summary>
internal sealed partial class InvalidationCacheEvictor(IInvalidationBus bus, ResponseCacheInvalidator invalidator,
    ILogger<InvalidationCacheEvictor> logger) : InvalidationHandler(bus)
{
    internal override void OnInvalidated(InvalidationMessage message) => _ = EvictAsync(message);

    private async Task EvictAsync(InvalidationMessage message)
    {
        try { await invalidator.OnInvalidationAsync(message.Kind, message.UserId, message.OrgId).ConfigureAwait(false); }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The store degrades on Redis errors itself; anything else must not kill the subscription thread.
            Log.EvictFailed(logger, message.Kind, ex.GetType().Name);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(2301, LogLevel.Warning, "Evicting cached responses for a '{Kind}' invalidation failed ({Error}); entries expire by TTL.", EventName = "CacheEvictFailed")]
        public static partial void EvictFailed(ILogger logger, string kind, string error);
    }
}
