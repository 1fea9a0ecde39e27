using Backend.Invalidation;
using Backend.Sessions;

namespace Backend.Redis;

/// <summary>
/// The session side of Redis, per docs/contracts.md. Every call is time-boxed and never throws; a Redis outage is logged
/// at Warning.
/// </summary>
internal interface ISessionCache
{
    /// <summary>
    /// Writes a principal through, unless its session's fence refuses it (revoked, or the principal older than the last
    /// membership change). Best effort: the gateway falls back to introspection on a miss.
    /// </summary>
    Task SetAsync(HashedPrincipal principal);

    /// <summary>Raises the fences and deletes the principals of an outbox entry, then publishes its message. True when Redis acknowledged all of it.</summary>
    Task<bool> ApplyAsync(OutboxEntry entry);
}
