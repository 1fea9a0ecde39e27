using System.Text.Json;
using Gateway.Redis;
using Microsoft.AspNetCore.OutputCaching;

namespace Gateway.Caching;

/// <summary>
/// Maps the backend's invalidation messages (docs/contracts.md, channel <c>gw:v1:invalidate</c>) to tag evictions:
/// <c>session</c>, <c>user</c>, <c>user-data</c> → <c>user:{userId}</c>; <c>org</c> → <c>org:{orgId}</c>; other kinds are ignored.
/// Hook <see cref="OnInvalidationAsync"/> into the gateway's invalidation bus, or call <see cref="SubscribeAsync"/> to
/// listen on the channel directly.
/// </summary>
public sealed partial class ResponseCacheInvalidator
{
    public const string Channel = "gw:v1:invalidate";
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
        "session" or "user" or "user-data" when !string.IsNullOrEmpty(userId) => _store.EvictByTagAsync(CacheTags.User(userId), CancellationToken.None),
        "org" when !string.IsNullOrEmpty(orgId) => _store.EvictByTagAsync(CacheTags.Org(orgId), CancellationToken.None),
        _ => ValueTask.CompletedTask,
    };

    /// <summary>Parses one channel message and evicts; malformed messages are logged and ignored.</summary>
    public async Task HandleMessageAsync(string json)
    {
        string? kind = null, userId = null, orgId = null;
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            if (root.TryGetProperty("kind", out var k)) kind = k.GetString();
            if (root.TryGetProperty("userId", out var u)) userId = u.GetString();
            if (root.TryGetProperty("orgId", out var o)) orgId = o.GetString();
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            Log.Malformed(_logger, ex.Message);
            return;
        }
        if (kind is not null) await OnInvalidationAsync(kind, userId, orgId).ConfigureAwait(false);
    }

    /// <summary>Subscribes to <see cref="Channel"/> and evicts on every message.</summary>
    public Task SubscribeAsync(IRedisClient redis) => redis.SubscribeAsync(Channel, message => _ = HandleMessageAsync(message));

    private static partial class Log
    {
        [LoggerMessage(2101, LogLevel.Warning, "Ignoring a malformed invalidation message: {Reason}", EventName = "InvalidationMalformed")]
        public static partial void Malformed(ILogger logger, string reason);
    }
}
