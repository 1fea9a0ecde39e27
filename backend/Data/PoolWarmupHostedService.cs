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
/// Each connection also runs <see cref="CatalogWarmup"/> once, so its Postgres process has the hot tables' catalog
/// entries cached before a request needs them.
/// </summary>
internal sealed partial class PoolWarmupHostedService(PostgresDataSources sources, ILogger<PoolWarmupHostedService> logger)
    : IHostedService
{
    /// <summary>A Postgres that does not answer within this delays the start no longer: the pool then fills on demand.</summary>
    internal static readonly TimeSpan Limit = TimeSpan.FromSeconds(15);

    /// <summary>
    /// A Postgres process plans its first statement on a table only after loading the table's and its indexes' catalog
    /// entries into its own caches. A new connection pays that during its first request, and a burst right after a
    /// start pays it on every connection at once. Measured on two cores (docs/performance.md, "Twelfth pass"): the
    /// first burst of 300 logouts after a backend start had a p95 of 184 ms with this against 202 ms without it (nine
    /// alternated starts each), a tenth less; the rest of that burst's cold cost is the JIT compiling the path.
    /// Key lookups on the tables the request paths use (sessions, users, memberships, the outbox, the audit log), each by
    /// a key no row has (the nil UUID, the empty string, id 0 of a serial): planned and executed through the same indexes
    /// as the real statements, nothing read or written. PoolWarmupTests run it on the migrated schema, so a renamed table
    /// or column fails there.
    /// </summary>
    internal const string CatalogWarmup = """
        SELECT 1 FROM sessions WHERE token_hash = '' AND revoked_at IS NULL;
        SELECT 1 FROM sessions WHERE id = '00000000-0000-0000-0000-000000000000' AND user_id = '00000000-0000-0000-0000-000000000000';
        SELECT 1 FROM users WHERE id = '00000000-0000-0000-0000-000000000000';
        SELECT 1 FROM users WHERE email_normalized = '';
        SELECT 1 FROM org_members m JOIN organizations o ON o.id = m.org_id WHERE m.user_id = '00000000-0000-0000-0000-000000000000';
        SELECT 1 FROM invalidation_outbox WHERE id = 0;
        SELECT 1 FROM audit_events WHERE id = 0;
        """;

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

    /// <summary>
    /// Holds all of them open at once: one after the other, the pool would hand back the same connection (and the
    /// catalog warm-up would reach one Postgres process).
    /// </summary>
    private static async Task OpenAsync(NpgsqlDataSource source, int count, CancellationToken ct)
    {
        var connections = new NpgsqlConnection?[count];
        try
        {
            await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
            {
                var connection = connections[i] = await source.OpenConnectionAsync(ct);
                await using var command = new NpgsqlCommand(CatalogWarmup, connection);
                await command.ExecuteNonQueryAsync(ct);   // all of the statements, not just the first
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
