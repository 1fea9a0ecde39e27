using Backend.Redis;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Backend.Sessions;

/// <summary>Writes the buffered last-seen times every <see cref="SessionOptions.LastSeenFlushInterval"/> and refreshes the Redis principals.</summary>
internal sealed partial class LastSeenFlusher(
    LastSeenBatcher batcher, SessionStore store, ISessionCache cache, IOptions<SessionOptions> options,
    TimeProvider time, ILogger<LastSeenFlusher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.LastSeenFlushInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken)) await FlushAsync();
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
        // Last chance on shutdown so activity is not lost.
        await FlushAsync();
    }

    public async Task FlushAsync()
    {
        var (ids, times) = batcher.Drain();
        if (ids.Length == 0) return;
        try
        {
            var principals = await store.TouchByIdsAsync(ids, times);
            await Task.WhenAll(principals.Select(cache.SetAsync));
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            Log.FlushFailed(logger, ids.Length, ex.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(3001, LogLevel.Warning, "Could not write last-seen times of {Count} sessions: {Error}", EventName = "LastSeenFlushFailed")]
        public static partial void FlushFailed(ILogger logger, int count, string error);
    }
}
