using Backend.Redis;

namespace Backend.Sessions;

/// <summary>After a database commit: delete the affected Redis keys, then publish the invalidation (docs/contracts.md).</summary>
internal sealed class SessionInvalidator(ISessionCache cache, TimeProvider time)
{
    public async Task SessionAsync(string tokenHash, Guid userId, string reason)
    {
        await cache.RemoveAsync([tokenHash]);
        await cache.PublishAsync(InvalidationMessage.Session(tokenHash, userId, reason, time));
    }

    public async Task UserAsync(Guid userId, IReadOnlyCollection<string> tokenHashes, string reason)
    {
        await cache.RemoveAsync(tokenHashes);
        await cache.PublishAsync(InvalidationMessage.User(userId, reason, time));
    }

    public Task UserDataAsync(Guid userId, string reason) => cache.PublishAsync(InvalidationMessage.UserData(userId, reason, time));

    public Task OrgAsync(Guid orgId, string reason) => cache.PublishAsync(InvalidationMessage.Org(orgId, reason, time));
}
