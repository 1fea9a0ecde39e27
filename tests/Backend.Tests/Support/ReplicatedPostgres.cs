using Npgsql;
using TestInfrastructure;

namespace Backend.Tests.Support;

/// <summary>
/// A primary and a streaming-replication hot standby of it (real servers), with one database created on the primary
/// and already replicated. Its own primary, not the assembly's: tests pause replay and stop standbys here.
/// </summary>
public sealed class ReplicatedPostgres : IAsyncLifetime
{
    public PostgresServer Primary { get; private set; } = null!;
    public PostgresServer Standby { get; private set; } = null!;
    public string Database { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Primary = await PostgresServer.StartAsync();
        Standby = await Primary.StartStandbyAsync();
        string cs = await Primary.CreateDatabaseAsync("r");
        Database = new NpgsqlConnectionStringBuilder(cs).Database!;
        await WaitForReplayAsync(Standby);
    }

    /// <summary>A multi-host connection string naming the primary first, then the given standbys.</summary>
    public string ConnectionString(params PostgresServer[] standbys)
    {
        var builder = new NpgsqlConnectionStringBuilder(Primary.ConnectionString(Database));
        builder.Host = string.Join(',', new[] { Primary }.Concat(standbys).Select(s => $"127.0.0.1:{s.Port}"));
        return builder.ConnectionString;
    }

    /// <summary>Waits until the standby has replayed everything the primary has written so far.</summary>
    public async Task WaitForReplayAsync(PostgresServer standby)
    {
        string lsn;
        await using (var primary = new NpgsqlConnection(Primary.ConnectionString("postgres")))
        {
            await primary.OpenAsync();
            // The insert position, not the write position: with synchronous_commit=off a commit may not be written yet.
            await using var cmd = new NpgsqlCommand("SELECT pg_current_wal_insert_lsn()::text", primary);
            lsn = (string)(await cmd.ExecuteScalarAsync())!;
        }
        await Api.EventuallyAsync(async () =>
        {
            await using var conn = new NpgsqlConnection(standby.ConnectionString("postgres"));
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("SELECT pg_last_wal_replay_lsn() >= @lsn::pg_lsn", conn);
            cmd.Parameters.AddWithValue("lsn", lsn);
            return (bool)(await cmd.ExecuteScalarAsync())!;
        }, $"standby on port {standby.Port} replays up to {lsn}", timeoutMs: 30_000);
    }

    /// <summary>Pauses or resumes WAL replay on the standby: a stand-in for replica lag that the test controls.</summary>
    public async Task SetReplayPausedAsync(bool paused)
    {
        await using var conn = new NpgsqlConnection(Standby.ConnectionString("postgres"));
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(paused ? "SELECT pg_wal_replay_pause()" : "SELECT pg_wal_replay_resume()", conn);
        await cmd.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Standby.DisposeAsync();
        await Primary.DisposeAsync();
    }
}
