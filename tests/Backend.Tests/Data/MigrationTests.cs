using Backend.Data;
using Backend.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using TestInfrastructure;

namespace Backend.Tests.Data;

public sealed class MigrationTests(PostgresFixture postgres)
{
    internal static async Task<string> MigratedDatabaseAsync(PostgresFixture postgres)
    {
        string cs = await postgres.CreateDatabaseAsync("b");
        await using var ds = NpgsqlDataSource.Create(cs);
        await new Migrator(ds, NullLogger<Migrator>.Instance).MigrateAsync(CancellationToken.None);
        return cs;
    }

    private static async Task<string> SchemaAsync(string cs)
    {
        await using var conn = new NpgsqlConnection(cs);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("""
            SELECT string_agg(line, E'\n' ORDER BY line) FROM (
              SELECT format('col %s.%s %s %s', table_name, column_name, data_type, is_nullable) AS line
              FROM information_schema.columns WHERE table_schema = 'public'
              UNION ALL
              SELECT format('idx %s %s', indexname, indexdef) FROM pg_indexes WHERE schemaname = 'public'
              UNION ALL
              SELECT format('mig %s', version) FROM schema_migrations) s
            """, conn);
        return (string)(await cmd.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task Migrate_Twice_IsIdempotent()
    {
        string cs = await postgres.CreateDatabaseAsync("b");
        await using var ds = NpgsqlDataSource.Create(cs);
        var migrator = new Migrator(ds, NullLogger<Migrator>.Instance);
        Assert.Equal(Migrator.LoadMigrations().Count, await migrator.MigrateAsync(CancellationToken.None));
        string first = await SchemaAsync(cs);
        Assert.Equal(0, await migrator.MigrateAsync(CancellationToken.None));
        Assert.Equal(first, await SchemaAsync(cs));
    }

    [Fact]
    public async Task Migrate_ConcurrentInstances_ApplyEachMigrationOnceAndYieldTheSameSchema()
    {
        string reference = await SchemaAsync(await MigratedDatabaseAsync(postgres));
        string cs = await postgres.CreateDatabaseAsync("b");
        var sources = Enumerable.Range(0, 4).Select(_ => NpgsqlDataSource.Create(cs)).ToArray();
        try
        {
            var applied = await Task.WhenAll(sources.Select(ds => new Migrator(ds, NullLogger<Migrator>.Instance).MigrateAsync(CancellationToken.None)));
            Assert.Equal(Migrator.LoadMigrations().Count, applied.Sum());
        }
        finally
        {
            foreach (var ds in sources) await ds.DisposeAsync();
        }
        Assert.Equal(reference, await SchemaAsync(cs));
    }

    [Fact]
    public void Migrations_AreEmbeddedAndOrdered()
    {
        var migrations = Migrator.LoadMigrations();
        Assert.NotEmpty(migrations);
        Assert.Equal("0001_initial", migrations[0].Version);
        Assert.Equal(migrations.Select(m => m.Version).Order(StringComparer.Ordinal), migrations.Select(m => m.Version));
    }
}
