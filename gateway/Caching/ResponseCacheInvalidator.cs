using Gateway.Contracts;
using Gateway.Redis;
using Microsoft.AspNetCore.OutputCaching;

namespace Gateway.Caching;

/// <summary>
/// Maps the backend's invalidation messages (docs/contracts.md, channel <c>gw:v1:invalidate</c>) to tag evictions:
/// <c>session</c>, <c>user</c>, <c>user-data</c> → <c>user:{userId}</c>; <c>org</c> → <c>org:{orgId}</c>; other kinds are ignored.
/// Hook <see cref="OnInvalidationAsync"/> into the gateway's invalidation bus, or call <see cref="SubscribeAsync"/> to
/// listen on the channel directly.
/// </summary>
internal sealed partial class ResponseCacheInvalidator
{
    /// <summary>The channel the backend publishes on (<see cref="SessionRedisContract.InvalidationChannel"/>).</summary>
    public const string Channel = SessionRedisContract.InvalidationChannel;
    private readonly IOutputCacheStore _store;
    private readonly ILogger<ResponseCacheInvalidator> _logger;

    public ResponseCacheInvalidator(IOutputCacheStore store, ILogger<ResponseCacheInvalidator> logger)
    {
        _store = store;
        _logger = logger;
    }

    /// <summary>Evicts the cached responses one invalidation message makes stale.</summary>
    public ValueTask OnInvalidationAsync(string kind, string? userId, string? orgId) => kind switch
    {
        InvalidationMessage.KindSession or InvalidationMessage.KindUser or InvalidationMessage.KindUserData when !string.IsNullOrEmpty(userId)
            => _store.EvictByTagAsync(CacheTags.User(userId), CancellationToken.None),
        InvalidationMessage.KindOrg when !string.IsNullOrEmpty(orgId) => _store.EvictByTagAsync(CacheTags.Org(orgId), CancellationToken.None),
        _ => ValueTask.CompletedTask,
    };

    /// <summary>Parses one channel message (<see cref="InvalidationMessage.TryParse"/>) and evicts; malformed messages are logged and ignored.</summary>
    public async Task HandleMessageAsync(string json)
    {
        if (InvalidationMessage.TryParse(json) is not { } message)
        {
            Log.Malformed(_logger);
            return;
        }
        await OnInvalidationAsync(message.Kind, message.UserId, message.OrgId).ConfigureAwait(false);
    }

    /// <summary>Subscribes to <see cref="Channel"/> and evicts on every message.</summary>
    public Task SubscribeAsync(IRedisClient redis) => redis.SubscribeAsync(Channel, message => _ = HandleMessageAsync(message));

    private static partial class Log
    {
        [LoggerMessage(2101, LogLevel.Warning, "Ignoring a malformed invalidation message.", EventName = "InvalidationMalformed")]
        public static partial void Malformed(ILogger logger);
    }
}
