using System.Net;
using System.Net.Http.Json;
using Gateway.Tests.Support;
using Npgsql;
using TestInfrastructure;

namespace Gateway.Tests.Infrastructure;

/// <summary>The backend process's own start-up and stop, as an operator running scripts/run.sh sees them.</summary>
public sealed class BackendStartupTests(PostgresFixture postgres, RedisFixture redis)
{
    [Fact]
    public async Task StopWhileMigrationsWaitForTheirLock_StopsCleanly_WithExitCode0()
    {
        string database = await postgres.Server.CreateDatabaseAsync("mig");
        // Hold the migrator's advisory lock (the key in backend/Data/Migrator.cs): start-up waits inside the migrations.
        await using var holder = new NpgsqlConnection(database);
        await holder.OpenAsync();
        await using (var lk = new NpgsqlCommand("SELECT pg_advisory_lock(7311204287)", holder)) await lk.ExecuteNonQueryAsync();

        await using var backend = BackendProcess.Launch(database, redis.ConnectionString);
        await Poll.UntilAsync(async () => await WaitingForLockAsync(holder), "the backend waits for the migration lock", TimeSpan.FromSeconds(60));

        int? exitCode = await backend.StopAsync(TimeSpan.FromSeconds(90));

        Assert.True(exitCode == 0, $"exit code {exitCode?.ToString() ?? "(still running after 90 s)"}:\n{backend.Output}");
        Assert.DoesNotContain("Unhandled exception", backend.Output);
        Assert.DoesNotContain("TaskCanceledException", backend.Output);
    }

    [Fact]
    public async Task StartedFromTheRepositoryRoot_ReadsItsOwnSettings_SoNpgsqlLogsNoCommands()
    {
        // scripts/run.sh starts it there, where appsettings.json is the stack's shared file, not the backend's own.
        string database = await postgres.Server.CreateDatabaseAsync("cwd");
        await using var backend = BackendProcess.LaunchIn(RepoPaths.Root, database, redis.ConnectionString);
        await backend.WaitUntilReadyAsync(TimeSpan.FromSeconds(60));
        using var client = new HttpClient { BaseAddress = new Uri(backend.BaseUrl) };

        var register = await client.PostAsJsonAsync("/auth/register",
            new { email = $"cwd-{Guid.NewGuid():N}@example.com", password = "correct horse battery staple", name = "Cwd" },
            TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Created, register.StatusCode);
        // backend/appsettings.json sets Npgsql to Warning; without it every command was a line at Information.
        Assert.DoesNotContain("Npgsql.Command", backend.Output);
    }

    [Fact]
    public async Task ABadH2cListenerUrl_StopsTheBackendAtStart_WithExitCode1AndTheSettingNamed()
    {
        string database = await postgres.Server.CreateDatabaseAsync("h2cbad");
        await using var backend = BackendProcess.Launch(database, redis.ConnectionString, "--Backend:H2cUrls=https://127.0.0.1:8091");

        int? exitCode = await backend.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.True(exitCode == 1, $"exit code {exitCode?.ToString() ?? "(still running after 60 s)"}:\n{backend.Output}");
        Assert.Contains("The backend refuses to start", backend.Output);
        Assert.Contains("Backend:H2cUrls holds 'https://127.0.0.1:8091', which is not an http:// URL with an explicit port", backend.Output);
        Assert.DoesNotContain("Unhandled exception", backend.Output);
    }

    private static async Task<bool> WaitingForLockAsync(NpgsqlConnection conn)
    {
        await using var cmd = new NpgsqlCommand(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())", conn);
        return (long)(await cmd.ExecuteScalarAsync())! > 0;
    }
}
