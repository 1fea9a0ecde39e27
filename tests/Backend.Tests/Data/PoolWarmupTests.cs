using Backend.Data;
using Backend.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using TestInfrastructure;

namespace Backend.Tests.Data;

/// <summary>
/// <c>Minimum Pool Size</c> connections are open before the backend takes its first request, so a burst does not start
/// one Postgres process per request in flight (docs/backend.md); a Postgres that is down delays the start only briefly.
/// </summary>
public sealed class PoolWarmupTests(PostgresFixture postgres, RedisFixture redis)
{
    private static async Task<long> ConnectionsNamedAsync(string cs, string applicationName)
    {
        await using var conn = new NpgsqlConnection(cs);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE application_name = @name", conn);
        cmd.Parameters.AddWithValue("name", applicationName);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task MinimumPoolSize_IsOpen_BeforeTheFirstRequest()
    {
        string cs = await postgres.CreateDatabaseAsync("w");
        string name = $"warmup-{Guid.NewGuid():N}"[..30];
        var logs = new CapturedLogs();
        await using var app = new BackendApp($"{cs};Minimum Pool Size=8;Application Name={name}", redis.ConnectionString,
            services: s => s.AddSingleton<ILoggerProvider>(logs));
        _ = app.Services; // starts the host; no request has been made

        // Without the warm-up the start-up opens what it uses: the migrations' connection and the outbox relay's.
        Assert.True(await ConnectionsNamedAsync(cs, name) >= 8, "fewer than Minimum Pool Size connections open after start-up");
        Assert.Contains(logs.Entries, e => e.Event.Id == 1201 && e.Level == LogLevel.Information && e.Message.Contains("8 connections"));
    }

    /// <summary>
    /// The catalog warm-up names tables, columns and indexes of the schema: run on the migrated schema, with a user, a
    /// session and their audit rows in it, every statement must run and none may change a row.
    /// </summary>
    [Fact]
    public async Task CatalogWarmup_RunsOnTheMigratedSchema_AndChangesNothing()
    {
        string cs = await postgres.CreateDatabaseAsync("c");
        await using var app = new BackendApp(cs, redis.ConnectionString);
        await app.CreateClient().NewUserAsync("warm");
        const string counts = """
            SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM sessions WHERE revoked_at IS NULL),
                   (SELECT count(*) FROM audit_events), (SELECT count(*) FROM org_members)
            """;
        var before = await RowAsync(cs, counts);
        Assert.True(before[0] >= 1 && before[1] >= 1 && before[2] >= 1, "the user, session and audit rows were not written");

        await using (var conn = new NpgsqlConnection(cs))
        {
            await conn.OpenAsync();
            await using var warmup = new NpgsqlCommand(PoolWarmupHostedService.CatalogWarmup, conn);
            await using var reader = await warmup.ExecuteReaderAsync();
            int statements = 0;
            do
            {
                statements++;
                Assert.False(await reader.ReadAsync(), $"warm-up statement {statements} found a row: its key must match none");
            } while (await reader.NextResultAsync());
            Assert.Equal(PoolWarmupHostedService.CatalogWarmup.Count(c => c == ';'), statements);   // every statement ran
        }
        Assert.Equal(before, await RowAsync(cs, counts));
    }

    private static async Task<long[]> RowAsync(string cs, string sql)
    {
        await using var conn = new NpgsqlConnection(cs);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await using var reader = await cmd.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return Enumerable.Range(0, reader.FieldCount).Select(reader.GetInt64).ToArray();
    }

    [Fact]
    public async Task PostgresDown_WithoutMigrations_StartsAndSaysThePoolIsCold()
    {
        int closedPort = FreePort.Next();
        var logs = new CapturedLogs();
        await using var app = new BackendApp($"Host=127.0.0.1;Port={closedPort};Username=app;Database=auth;Minimum Pool Size=3;Timeout=1",
            redis.ConnectionString, new Dictionary<string, string?> { ["Postgres:MigrateOnStart"] = "false" },
            s => s.AddSingleton<ILoggerProvider>(logs));

        var client = app.CreateClient(); // the start completes
        Assert.Equal(System.Net.HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);
        var warning = Assert.Single(logs.Entries, e => e.Event.Id == 1202);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("fills on demand", warning.Message);
    }
}
