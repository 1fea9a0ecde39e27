using Backend.Sessions;

namespace Backend.Redis;

/// <summary>
/// Write-through of session principals to Redis and the invalidation channel, per docs/contracts.md.
/// Best effort: every call is time-boxed and never throws; a Redis outage is logged at Warning.
/// </summary>
internal interface ISessionCache
{
    Task SetAsync(HashedPrincipal principal);
    Task RemoveAsync(IReadOnlyCollection<string> tokenHashes);
    Task PublishAsync(InvalidationMessage message);
}
