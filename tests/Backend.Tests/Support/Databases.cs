using Npgsql;
using TestInfrastructure;

namespace Backend.Tests.Support;

/// <summary>
/// Creates a fresh database in the assembly's Postgres. Stands in for PostgresFixture.CreateDatabaseAsync, whose
/// name truncation throws for every prefix (reported to the lead; TestInfrastructure is outside this branch's scope).
/// </summary>
public static class Databases
{
    public static async Task<string> CreateAsync(this PostgresFixture postgres)
    {
        string name = "b_" + Guid.NewGuid().ToString("N");
        await using var conn = new NpgsqlConnection(postgres.Server.ConnectionString("postgres"));
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", conn);
        await cmd.ExecuteNonQueryAsync();
        return postgres.Server.ConnectionString(name);
    }
}
