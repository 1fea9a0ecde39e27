using Gateway.Contracts;

namespace Gateway.Sessions;

/// <summary>
/// A hosted service that handles every invalidation of <see cref="IInvalidationBus"/> while the host runs: the response
/// cache's eviction and the streams' revocation. It runs on the subscriber's thread, after L1 has been evicted.
/// </summary>
internal abstract class InvalidationHandler(IInvalidationBus bus) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        bus.Invalidated += OnInvalidated;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        bus.Invalidated -= OnInvalidated;
        return Task.CompletedTask;
    }

    internal abstract void OnInvalidated(InvalidationMessage message);
}
