using System.Diagnostics;
using Npgsql;

namespace TestInfrastructure;

/// <summary>
/// A real throwaway PostgreSQL cluster (initdb + pg_ctl) on 127.0.0.1 on a free port in a temp dir.
/// fsync and synchronous commit are off: this data is disposable. As root (CI), the server runs as the
/// 'postgres' system user, because initdb and postgres refuse to run as root.
/// Each test class should call <see cref="CreateDatabaseAsync"/> to own its data.
/// <see cref="StartStandbyAsync"/> adds a streaming-replication hot standby of a server.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private const string User = "app";
    private static readonly string[] BinDirs = Directory.Exists("/usr/lib/postgresql")
        ? Directory.GetDirectories("/usr/lib/postgresql").OrderDescending().Select(d => Path.Combine(d, "bin")).ToArray()
        : [];

    public int Port { get; }
    public string Dir { get; }
    private string DataDir => Path.Combine(Dir, "pg");
    private string? RunAs => ProcessRunner.IsRoot ? "postgres" : null;
    private int _databases;

    private PostgresServer(int port, string dir) { Port = port; Dir = dir; }

    public string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Username={User};Database={database};Pooling=true;Maximum Pool Size=20;Timeout=10";

    public static async Task<PostgresServer> StartAsync()
    {
        var dir = FixtureDir.Create("gwtest-pg-");
        var server = new PostgresServer(FreePort.Next(), dir);
        if (ProcessRunner.IsRoot) await ProcessRunner.RunAsync("chown", ["postgres", dir]);
        var initdb = ProcessRunner.Which("initdb", BinDirs);
        await ProcessRunner.RunAsync(initdb, ["-D", server.DataDir, "-A", "trust", "-U", User, "--no-sync", "-E", "UTF8"], server.RunAs);
        await server.StartServerAsync();
        return server;
    }

    private async Task StartServerAsync()
    {
        var pgctl = ProcessRunner.Which("pg_ctl", BinDirs);
        // wal_level=replica (the default, stated because standbys depend on it); initdb -A trust already lets
        // 127.0.0.1 connect for replication in pg_hba.conf.
        string opts = $"-p {Port} -k {Dir} -c listen_addresses=127.0.0.1 -c wal_level=replica -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200";
        await ProcessRunner.RunAsync(pgctl, ["-D", DataDir, "-o", opts, "-l", Path.Combine(Dir, "log"), "-w", "-t", "60", "start"], RunAs);
    }

    /// <summary>
    /// Clones this server with <c>pg_basebackup -R</c> (which writes primary_conninfo and standby.signal) and starts the
    /// copy as a hot standby on its own port: it replays this server's WAL and answers read-only queries.
    /// </summary>
    public async Task<PostgresServer> StartStandbyAsync()
    {
        var dir = FixtureDir.Create("gwtest-pgstandby-");
        var standby = new PostgresServer(FreePort.Next(), dir);
        if (ProcessRunner.IsRoot) await ProcessRunner.RunAsync("chown", ["postgres", dir]);
        var basebackup = ProcessRunner.Which("pg_basebackup", BinDirs);
        // -c fast: the default spread checkpoint can hold the backup for minutes once the primary has dirty pages.
        await ProcessRunner.RunAsync(basebackup,
            ["-D", standby.DataDir, "-R", "-X", "stream", "-c", "fast", "--no-sync", "-h", "127.0.0.1", "-p", Port.ToString(), "-U", User], RunAs);
        await standby.StartServerAsync();
        return standby;
    }

    /// <summary>Stops the server (fast shutdown: open sessions are terminated), e.g. to test failover.</summary>
    public async Task StopAsync()
    {
        var pgctl = ProcessRunner.Which("pg_ctl", BinDirs);
        await ProcessRunner.RunAsync(pgctl, ["-D", DataDir, "-m", "fast", "-w", "stop"], RunAs);
    }

    /// <summary>Creates a fresh, empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix = "t")
    {
        string full = $"{prefix}_{Interlocked.Increment(ref _databases)}_{Guid.NewGuid():N}".ToLowerInvariant();
        string name = full.Length <= 60 ? full : full[..60]; // Postgres identifiers stop at 63 bytes
        await using var conn = new NpgsqlConnection(ConnectionString("postgres"));
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", conn);
        await cmd.ExecuteNonQueryAsync();
        return ConnectionString(name);
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        try
        {
            var pgctl = ProcessRunner.Which("pg_ctl", BinDirs);
            await ProcessRunner.RunAsync(pgctl, ["-D", DataDir, "-m", "immediate", "-w", "stop"], RunAs);
        }
        catch (InvalidOperationException) { }
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
