using Microsoft.Extensions.DependencyInjection;
using Backend.Invalidation;
using Backend.Redis;
using Backend.Sessions;

namespace Backend.Tests.Support;

/// <summary>
/// Wraps the real Redis session cache and holds every principal write at a gate the test opens, so a writer that read
/// Postgres can be made to write after a revocation: a deterministic interleaving of the race. Invalidations pass through.
/// </summary>
internal sealed class GatedSessionCache(RedisSessionCache inner) : ISessionCache
{
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _closed;

    /// <summary>From now on, writes wait at the gate.</summary>
    public void Close() => _closed = true;

    /// <summary>Completes when a write is waiting at the closed gate (the writer has read Postgres already).</summary>
    public Task WriterHeld => _held.Task;

    public void Open() => _open.TrySetResult();

    public async Task SetAsync(HashedPrincipal principal)
    {
        if (_closed)
        {
            _held.TrySetResult();
            await _open.Task;
        }
        await inner.SetAsync(principal);
    }

    public Task<bool> ApplyAsync(OutboxEntry entry) => inner.ApplyAsync(entry);

    public static void Install(IServiceCollection services)
    {
        services.AddSingleton<RedisSessionCache>();
        services.AddSingleton<GatedSessionCache>();
        services.AddSingleton<ISessionCache>(sp => sp.GetRequiredService<GatedSessionCache>());
    }
}
