using System.Diagnostics;
using Npgsql;

namespace Backend.Data;

/// <summary>
/// Opens the pool's <c>Minimum Pool Size</c> before the server accepts requests (hosted services start before Kestrel).
/// Npgsql opens pooled connections only on demand, and prunes idle ones down to that minimum after
/// <c>Connection Idle Lifetime</c> (300 s by default). A burst that finds the pool short opens one Postgres process per
/// request in flight: measured on two cores, 50 logouts at once after a quiet spell had a p95 of 190-223 ms against
/// 43-89 ms with the connections already open (docs/performance.md, "Ninth pass"). The minimum keeps them open across
/// quiet spells; this opens them at start-up, so the first burst after a deploy does not pay for them either.
/// </summary>
internal sealed partial class PoolWarmupHostedService(PostgresDataSources sources, ILogger<PoolWarmupHostedService> logger)
    : IHostedService
{
    /// <summary>A Postgres that does not answer within this delays the start no longer: the pool then fills on demand.</summary>
    internal static readonly TimeSpan Limit = TimeSpan.FromSeconds(15);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var minimum = new NpgsqlConnectionStringBuilder(sources.Primary.ConnectionString).MinPoolSize;
        if (minimum == 0) return;
        var started = Stopwatch.GetTimestamp();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(Limit);
        try
        {
            await OpenAsync(sources.Primary, minimum, limit.Token);
            // With several hosts the read view picks a standby: its pool has the same minimum.
            if (!ReferenceEquals(sources.Read.Source, sources.Primary)) await OpenAsync(sources.Read.Source, minimum, limit.Token);
            LogWarmed(minimum, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is NpgsqlException or OperationCanceledException)
        {
            // Not fatal: the same requests would open the connections later. Readiness reports a database that is down.
            LogFailed(minimum, Stopwatch.GetElapsedTime(started).TotalMilliseconds, e.Message);
        }
    }

    /// <summary>Holds all of them open at once: one after the other, the pool would hand back the same connection.</summary>
    private static async Task OpenAsync(NpgsqlDataSource source, int count, CancellationToken ct)
    {
        var connections = new NpgsqlConnection?[count];
        try
        {
            await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
            {
                var connection = connections[i] = await source.OpenConnectionAsync(ct);
                await using var command = new NpgsqlCommand("SELECT 1", connection);
                await command.ExecuteScalarAsync(ct);
            }));
        }
        finally
        {
            foreach (var connection in connections) if (connection is not null) await connection.DisposeAsync();
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(1201, LogLevel.Information, "Postgres pool warmed: {Count} connections open (Minimum Pool Size) in {ElapsedMs:F0} ms",
        EventName = "PoolWarmed")]
    private partial void LogWarmed(int count, double elapsedMs);

    [LoggerMessage(1202, LogLevel.Warning, "Postgres pool not warmed ({Count} connections, Minimum Pool Size) after {ElapsedMs:F0} ms: {Reason}. The pool fills on demand; the first requests pay for their connections",
        EventName = "PoolWarmupFailed")]
    private partial void LogFailed(int count, double elapsedMs, string reason);
}
