using System.Reflection;
using Npgsql;

namespace Backend.Data;

/// <summary>
/// Applies the embedded <c>Data/Migrations/NNNN_name.sql</c> files in order, each once, in its own transaction,
/// under a session-level advisory lock so two instances starting together apply each file exactly once.
/// </summary>
internal sealed partial class Migrator(NpgsqlDataSource dataSource, ILogger<Migrator> logger)
{
    // Arbitrary constant shared by every instance of the backend: "gw-auth" as digits.
    private const long LockKey = 7_311_204_287;

    public static IReadOnlyList<(string Version, string Sql)> LoadMigrations()
    {
        var assembly = typeof(Migrator).Assembly;
        var list = new List<(string, string)>();
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.EndsWith(".sql", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var reader = new StreamReader(stream);
            // Resource names are "Backend.Data.Migrations.0001_initial.sql": the version is the file name.
            string file = name[(name.IndexOf(".Migrations.", StringComparison.Ordinal) + ".Migrations.".Length)..^4];
            list.Add((file, reader.ReadToEnd()));
        }
        return list;
    }

    public async Task<int> MigrateAsync(CancellationToken ct)
    {
        int applied;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        // Session-level lock: held across the bookkeeping table and every file; released on unlock or disconnect.
        // No command timeout: another instance may hold the lock for as long as its migrations take (the default 30 s
        // crashed a second instance starting beside a long migration); stopping the process cancels the wait.
        await using (var lk = new NpgsqlCommand("SELECT pg_advisory_lock(@k)", conn) { CommandTimeout = 0 })
        {
            lk.Parameters.AddWithValue("k", LockKey);
            await lk.ExecuteNonQueryAsync(ct);
        }
        try
        {
            applied = await ApplyAsync(conn, ct);
        }
        finally
        {
            await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock(@k)", conn);
            unlock.Parameters.AddWithValue("k", LockKey);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
        return applied;
    }

    private async Task<int> ApplyAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        int applied = 0;
        await using (var create = new NpgsqlCommand(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())", conn))
        {
            await create.ExecuteNonQueryAsync(ct);
        }
        foreach (var (version, sql) in LoadMigrations())
        {
            await using var tx = await conn.BeginTransactionAsync(ct);
            await using (var check = new NpgsqlCommand("SELECT 1 FROM schema_migrations WHERE version = @v", conn, tx))
            {
                check.Parameters.AddWithValue("v", version);
                if (await check.ExecuteScalarAsync(ct) is not null) { await tx.RollbackAsync(ct); continue; }
            }
            await using (var run = new NpgsqlCommand(sql, conn, tx)) await run.ExecuteNonQueryAsync(ct);
            await using (var mark = new NpgsqlCommand("INSERT INTO schema_migrations (version) VALUES (@v)", conn, tx))
            {
                mark.Parameters.AddWithValue("v", version);
                await mark.ExecuteNonQueryAsync(ct);
            }
            await tx.CommitAsync(ct);
            Log.Applied(logger, version);
            applied++;
        }
        return applied;
    }

    private static partial class Log
    {
        [LoggerMessage(1001, LogLevel.Information, "Applied migration {Version}", EventName = "MigrationApplied")]
        public static partial void Applied(ILogger logger, string version);
    }
}
