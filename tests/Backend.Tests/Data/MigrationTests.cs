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
    public async Task EmailNfd_RewritesStoredForms_AndLeavesACollisionsOtherRowsAlone()
    {
        string cs = await MigratedDatabaseAsync(postgres);
        await using var conn = new NpgsqlConnection(cs);
        await conn.OpenAsync();
        Task<object?> Scalar(string sql) => ScalarAsync(conn, sql);
        // Rows as stored before NFD. rené exists composed and (registered later) decomposed; ẹ́ exists composed and with
        // its marks out of canonical order (acute, then dot below), which NFD makes one address.
        await Scalar("""
            INSERT INTO users (email, email_normalized, name, password_hash, created_at, updated_at) VALUES
              ('x', U&'jos\00E9@a.example', 'only', 'h', now(), now()),
              ('x', U&'ren\00E9@b.example', 'rene-composed', 'h', now() - interval '1 day', now()),
              ('x', U&'rene\0301@b.example', 'rene-decomposed', 'h', now(), now()),
              ('x', U&'\1EB9\0301@c.example', 'older', 'h', now() - interval '1 day', now()),
              ('x', U&'e\0301\0323@c.example', 'newer', 'h', now(), now())
            """);
        await Scalar("DELETE FROM schema_migrations WHERE version = '0003_email_nfd'");

        await using var ds = NpgsqlDataSource.Create(cs);
        Assert.Equal(1, await new Migrator(ds, NullLogger<Migrator>.Instance).MigrateAsync(CancellationToken.None));

        async Task<string> Stored(string name) => (string)(await Scalar($"SELECT email_normalized FROM users WHERE name = '{name}'"))!;
        Assert.Equal("jose\u0301@a.example", await Stored("only"));
        Assert.Equal("rene\u0301@b.example", await Stored("rene-decomposed"));
        Assert.Equal("ren\u00E9@b.example", await Stored("rene-composed"));   // the address is taken: left, unreachable
        Assert.Equal("e\u0323\u0301@c.example", await Stored("older"));        // the earliest of a collision takes it
        Assert.Equal("e\u0301\u0323@c.example", await Stored("newer"));
        Assert.Equal(2L, await Scalar("SELECT count(*) FROM users WHERE email_normalized IS NOT NFD NORMALIZED"));
    }

    /// <summary>
    /// Keys stored before the key decomposed first: an address typed with "İ" kept an upper-case "I" (+ U+0307), one typed
    /// "I" + U+0307 was keyed with "i". The migration makes the first the current key, unless the second already holds it.
    /// </summary>
    [Fact]
    public async Task EmailDottedCapitalI_RekeysUsersAndInvitations_AndLeavesACollisionsOtherRowsAlone()
    {
        string cs = await MigratedDatabaseAsync(postgres);
        await using var conn = new NpgsqlConnection(cs);
        await conn.OpenAsync();
        Task<object?> Scalar(string sql) => ScalarAsync(conn, sql);
        await Scalar("""
            INSERT INTO users (email, email_normalized, name, password_hash, created_at, updated_at) VALUES
              (U&'\0130pek@a.example', U&'I\0307pek@a.example', 'only', 'h', now(), now()),
              (U&'\0130z@b.example', U&'I\0307z@b.example', 'dotted-capital', 'h', now(), now()),
              (U&'i\0307z@b.example', U&'i\0307z@b.example', 'already-lower', 'h', now() - interval '1 day', now()),
              ('plain@c.example', 'plain@c.example', 'plain', 'h', now(), now());
            INSERT INTO organizations (id, name, created_by) SELECT '00000000-0000-0000-0000-0000000000a1', 'o', id FROM users WHERE name = 'plain';
            INSERT INTO org_invitations (org_id, email, email_normalized, role, created_at, expires_at) VALUES
              ('00000000-0000-0000-0000-0000000000a1', U&'\0130pek@a.example', U&'I\0307pek@a.example', 'member', now(), now() + interval '1 day');
            DELETE FROM schema_migrations WHERE version = '0007_email_dotted_capital_i';
            """);

        await using var ds = NpgsqlDataSource.Create(cs);
        Assert.Equal(1, await new Migrator(ds, NullLogger<Migrator>.Instance).MigrateAsync(CancellationToken.None));

        async Task<string> Stored(string name) => (string)(await Scalar($"SELECT email_normalized FROM users WHERE name = '{name}'"))!;
        Assert.Equal(Gateway.Trust.Accounts.AccountEmail.Normalize("\u0130pek@a.example"), await Stored("only"));
        Assert.Equal("i\u0307pek@a.example", await Stored("only"));
        Assert.Equal("I\u0307z@b.example", await Stored("dotted-capital"));   // the address is taken: left, unreachable
        Assert.Equal("i\u0307z@b.example", await Stored("already-lower"));
        Assert.Equal("plain@c.example", await Stored("plain"));
        Assert.Equal("i\u0307pek@a.example", (string)(await Scalar("SELECT email_normalized FROM org_invitations"))!);
    }

    private static async Task<object?> ScalarAsync(NpgsqlConnection conn, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        return await cmd.ExecuteScalarAsync();
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
