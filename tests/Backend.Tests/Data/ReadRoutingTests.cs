using System.Net;
using Backend.Data;
using Backend.Tests.Support;
using Npgsql;
using TestInfrastructure;

namespace Backend.Tests.Data;

/// <summary>
/// The backend on <c>Host=primary,standby</c> with a real streaming replica: writes and session checks on the primary,
/// reporting listings on the standby, and back to the primary when the standby is gone.
/// </summary>
public sealed class ReadRoutingTests(ReplicatedPostgres pg, RedisFixture redis) : IClassFixture<ReplicatedPostgres>
{
    private static async Task<(bool InRecovery, int Port)> WhereAsync(NpgsqlDataSource source)
    {
        await using var cmd = source.CreateCommand("SELECT pg_is_in_recovery(), inet_server_port()");
        await using var r = await cmd.ExecuteReaderAsync();
        await r.ReadAsync();
        return (r.GetBoolean(0), r.GetInt32(1));
    }

    [Fact]
    public async Task MultiHostString_PrimarySourceIsThePrimary_ReadSourceIsTheStandby()
    {
        await using var app = new BackendApp(pg.ConnectionString(pg.Standby), redis.ConnectionString);
        _ = app.Services; // starts the host: migrations ran through the primary source

        Assert.Equal((false, pg.Primary.Port), await WhereAsync(app.Service<NpgsqlDataSource>()));
        Assert.Equal((true, pg.Standby.Port), await WhereAsync(app.Service<ReadDataSource>().Source));
    }

    [Fact]
    public async Task SingleHostString_BothSourcesAreTheSameDataSource()
    {
        await using var app = new BackendApp(pg.Primary.ConnectionString(pg.Database), redis.ConnectionString);
        Assert.Same(app.Service<NpgsqlDataSource>(), app.Service<ReadDataSource>().Source);
    }

    [Fact]
    public async Task StandbyLagging_SessionChecksSeeTheLatestWrites_ListingsShowTheStandbysView()
    {
        await using var app = new BackendApp(pg.ConnectionString(pg.Standby), redis.ConnectionString);
        var client = app.CreateClient();
        var first = await client.NewUserAsync();
        await pg.WaitForReplayAsync(pg.Standby);
        var firstId = await SingleSessionIdAsync(client, first.Token);

        await pg.SetReplayPausedAsync(true);
        try
        {
            // Both happen only on the primary while the standby stands still.
            var second = await client.LoginAsync(first.Email);
            Assert.Equal(HttpStatusCode.NoContent, (await client.SendAsync(HttpMethod.Delete, $"/users/me/sessions/{firstId}", second.Token)).StatusCode);

            // Session checks run on the primary: the new token works at once, the revoked one is refused at once.
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(HttpMethod.Get, "/auth/me", second.Token)).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(HttpMethod.Get, "/auth/me", first.Token)).StatusCode);

            // The listings come from the standby: still the revoked session, no new one, no revocation event yet.
            Assert.Equal(firstId, await SingleSessionIdAsync(client, second.Token));
            Assert.DoesNotContain("session.revoked", await AuditEventTypesAsync(client, second.Token));

            await pg.SetReplayPausedAsync(false);
            await pg.WaitForReplayAsync(pg.Standby);
            Assert.NotEqual(firstId, await SingleSessionIdAsync(client, second.Token));
            Assert.Contains("session.revoked", await AuditEventTypesAsync(client, second.Token));
        }
        finally
        {
            await pg.SetReplayPausedAsync(false);
        }
    }

    [Fact]
    public async Task StandbyStopped_ReadsFallBackToThePrimary()
    {
        // A standby of its own, so stopping it leaves the class fixture's standby alone.
        await using var standby = await pg.Primary.StartStandbyAsync();
        await pg.WaitForReplayAsync(standby);
        await using var app = new BackendApp(pg.ConnectionString(standby), redis.ConnectionString);
        var client = app.CreateClient();
        var login = await client.NewUserAsync();
        Assert.Equal((true, standby.Port), await WhereAsync(app.Service<ReadDataSource>().Source));

        await standby.StopAsync();

        // Npgsql does not probe idle connections: the one the standby dropped fails once. That failure marks the host
        // offline (for Host Recheck Seconds) and clears its pool, so every read after it goes to the primary.
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => WhereAsync(app.Service<ReadDataSource>().Source));
        Assert.Equal((false, pg.Primary.Port), await WhereAsync(app.Service<ReadDataSource>().Source));
        // The listing now reads the primary, so it sees the session created a moment ago.
        await SingleSessionIdAsync(client, login.Token);
    }

    private static async Task<Guid> SingleSessionIdAsync(HttpClient client, string token)
    {
        var response = await client.SendAsync(HttpMethod.Get, "/users/me/sessions", token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var items = (await response.ReadJsonAsync()).GetProperty("items");
        Assert.Equal(1, items.GetArrayLength());
        return items[0].GetProperty("id").GetGuid();
    }

    private static async Task<List<string>> AuditEventTypesAsync(HttpClient client, string token)
    {
        var response = await client.SendAsync(HttpMethod.Get, "/audit", token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var types = new List<string>();
        foreach (var e in (await response.ReadJsonAsync()).GetProperty("items").EnumerateArray()) types.Add(e.GetProperty("eventType").GetString()!);
        return types;
    }
}
