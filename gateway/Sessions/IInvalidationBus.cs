using Gateway.Contracts;

namespace Gateway.Sessions;

/// <summary>
/// Invalidations received from the backend, after the gateway evicted its L1 sessions. The response cache hooks
/// <see cref="Invalidated"/> to evict user- and org-tagged responses.
/// </summary>
internal interface IInvalidationBus
{
    event Action<InvalidationMessage>? Invalidated;
}
