using TestInfrastructure;

namespace Backend.Tests.Support;

/// <summary>Base of the functional tests: each test class gets its own database, backend instance and client.</summary>
public abstract class BackendTest(PostgresFixture postgres, RedisFixture redis) : IAsyncLifetime
{
    protected BackendApp App { get; private set; } = null!;
    protected HttpClient Client { get; private set; } = null!;
    protected PostgresFixture Postgres => postgres;
    protected RedisFixture Redis => redis;

    /// <summary>Extra settings for this class's backend (e.g. short lifetimes).</summary>
    protected virtual IReadOnlyDictionary<string, string?>? Settings => null;

    public async ValueTask InitializeAsync()
    {
        string cs = await postgres.CreateDatabaseAsync("b");
        App = new BackendApp(cs, redis.ConnectionString, Settings);
        Client = App.CreateClient();
    }

    /// <summary>Sessions of this class's database waiting for a lock (a test holding a row sees its request arrive there).</summary>
    protected async Task<long> LockWaitersAsync()
    {
        await using var conn = new Npgsql.NpgsqlConnection(App.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new Npgsql.NpgsqlCommand(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'", conn);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.DisposeAsync();
    }
}
