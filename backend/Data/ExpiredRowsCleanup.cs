using Backend.Organizations;
using Backend.Sessions;
using Microsoft.Extensions.Options;
using SessionOptions = Backend.Sessions.SessionOptions;
using Npgsql;

namespace Backend.Data;

/// <summary>
/// Every <see cref="SessionOptions.CleanupInterval"/>, deletes in batches what nothing reads any more: sessions past their
/// absolute expiry or revoked longer ago than <see cref="SessionOptions.RevokedRetention"/>, and expired invitations
/// (the address of someone who never joined, kept for nothing).
/// </summary>
internal sealed partial class ExpiredRowsCleanup(SessionStore sessions, InvitationStore invitations, IOptions<SessionOptions> options,
    TimeProvider time, ILogger<ExpiredRowsCleanup> logger) : BackgroundService
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

    /// <summary>Drains each table batch after batch until a batch comes back short. Returns the number of rows deleted.</summary>
    public async Task<int> RunOnceAsync(CancellationToken ct) =>
        await DrainAsync("sessions", sessions.DeleteDeadBatchAsync, ct) + await DrainAsync("invitations", invitations.DeleteExpiredBatchAsync, ct);

    private async Task<int> DrainAsync(string table, Func<DateTime, int, Task<int>> deleteBatch, CancellationToken ct)
    {
        int total = 0, batch = options.Value.CleanupBatchSize;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                int n = await deleteBatch(time.GetUtcNow().UtcDateTime, batch);
                total += n;
                if (n < batch) break;
            }
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            Log.Failed(logger, table, ex.Message);
        }
        return total;
    }

    private static partial class Log
    {
        [LoggerMessage(3101, LogLevel.Warning, "Clean-up of {Table} failed: {Error}", EventName = "CleanupFailed")]
        public static partial void Failed(ILogger logger, string table, string error);
    }
}
