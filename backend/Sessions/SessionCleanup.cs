using Microsoft.Extensions.Options;
using Npgsql;

namespace Backend.Sessions;

/// <summary>Deletes expired and long-revoked sessions in batches every <see cref="SessionOptions.CleanupInterval"/>.</summary>
internal sealed partial class SessionCleanup(
    SessionStore store, IOptions<SessionOptions> options, TimeProvider time, ILogger<SessionCleanup> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.CleanupInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken)) await RunOnceAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
    }

    /// <summary>Deletes batch after batch until a batch comes back short. Returns the number of rows deleted.</summary>
    public async Task<int> RunOnceAsync(CancellationToken ct)
    {
        int total = 0;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                int n = await store.DeleteDeadBatchAsync(time.GetUtcNow().UtcDateTime, options.Value.CleanupBatchSize);
                total += n;
                if (n < options.Value.CleanupBatchSize) break;
            }
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            Log.Failed(logger, ex.Message);
        }
        return total;
    }

    private static partial class Log
    {
        [LoggerMessage(3101, LogLevel.Warning, "Session clean-up failed: {Error}", EventName = "SessionCleanupFailed")]
        public static partial void Failed(ILogger logger, string error);
    }
}
