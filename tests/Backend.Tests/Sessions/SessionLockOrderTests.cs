using System.Net;
using System.Net.Http.Json;
using Backend.Tests.Support;
using Npgsql;
using TestInfrastructure;

namespace Backend.Tests.Sessions;

/// <summary>
/// Every statement that changes several sessions locks them in id order, so two of them sharing sessions (a logout-all
/// and the gateway's activity touch of the same user's sessions) wait for each other instead of deadlocking. Until
/// 2026-12-05 each locked in its own plan's order, and PostgreSQL broke such a deadlock by failing one statement: a
/// logout-all answered 503 "database unavailable". Shown by holding the session with the highest id: a statement that
/// waits for it must already hold every other one, and one that locks in creation order does not.
/// </summary>
public sealed class SessionLockOrderTests(PostgresFixture postgres, RedisFixture redis) : BackendTest(postgres, redis)
{
    public enum Statement { LogoutAll, GatewayTouch }

    [Theory]
    [InlineData(Statement.LogoutAll)]
    [InlineData(Statement.GatewayTouch)]
    public async Task AStatementOverSeveralSessions_LocksThemInIdOrder(Statement statement)
    {
        var first = await Client.NewUserAsync();
        var logins = new List<Login> { first };
        for (int i = 0; i < 3; i++)
        {
            App.Time.Advance(TimeSpan.FromSeconds(1));   // the test's clock stands still otherwise
            logins.Add(await Client.LoginAsync(first.Email));
        }
        // The highest id must be neither the oldest session nor the newest, so that any order by creation time (a heap
        // scan, or the user's index) has a session after it. Rare to need: another login.
        List<(Guid Id, DateTime CreatedAt)> sessions;
        while (true)
        {
            sessions = await SessionsAsync(first.UserId);
            var byCreation = sessions.OrderBy(s => s.CreatedAt).ThenBy(s => s.Id).ToList();
            Guid highest = sessions.Max(s => s.Id);
            if (byCreation[0].Id != highest && byCreation[^1].Id != highest) break;
            App.Time.Advance(TimeSpan.FromSeconds(1));
            logins.Add(await Client.LoginAsync(first.Email));
        }
        Guid held = sessions.Max(s => s.Id);

        await using var blockerConn = new NpgsqlConnection(App.ConnectionString);
        await blockerConn.OpenAsync();
        await using var blocker = await blockerConn.BeginTransactionAsync();
        await ExecAsync(blockerConn, blocker, "SELECT 1 FROM sessions WHERE id = @id FOR UPDATE", held);

        Task<HttpResponseMessage> running = statement == Statement.LogoutAll
            ? Client.SendAsync(HttpMethod.Post, "/auth/logout-all", first.Token)
            : Client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/internal/sessions/touch")
            {
                Content = JsonContent.Create(new { tokenHashes = logins.Select(l => l.Hash).ToArray() }),
                Headers = { { "X-Gateway-Secret", BackendApp.InternalSecret } },
            });
        await Poll.UntilAsync(async () => await LockWaitersAsync() >= 1, "the statement waits for the held session");

        var notYetLocked = new List<Guid>();
        await using (var probeConn = new NpgsqlConnection(App.ConnectionString))
        {
            await probeConn.OpenAsync();
            foreach (var (id, _) in sessions.Where(s => s.Id != held))
            {
                await using var probe = await probeConn.BeginTransactionAsync();
                try
                {
                    await ExecAsync(probeConn, probe, "SELECT 1 FROM sessions WHERE id = @id FOR UPDATE NOWAIT", id);
                    notYetLocked.Add(id);
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.LockNotAvailable) { }
                await probe.RollbackAsync();
            }
        }
        await blocker.RollbackAsync();

        using var response = await running;
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Empty(notYetLocked);
    }

    /// <summary>
    /// A deadlock the backend cannot avoid (here with a transaction outside it, locking in the opposite order) is one
    /// request colliding with another on a database that answers: 503 with <c>Retry-After</c> and type
    /// <c>transaction-conflict</c>, which the gateway's breaker does not count. Until 2026-12-05 it was 503 "the database
    /// cannot be reached" without <c>Retry-After</c>, which the breaker counts as an outage. PostgreSQL fails the
    /// transaction whose deadlock check runs first: the one that began waiting first, the logout-all.
    /// </summary>
    [Fact]
    public async Task ADeadlock_IsA503WithRetryAfter_NotAnOutage()
    {
        var first = await Client.NewUserAsync();
        App.Time.Advance(TimeSpan.FromSeconds(1));
        await Client.LoginAsync(first.Email);
        var ids = (await SessionsAsync(first.UserId)).Select(s => s.Id).Order().ToList();

        await using var conn = new NpgsqlConnection(App.ConnectionString);
        await conn.OpenAsync();
        await using var other = await conn.BeginTransactionAsync();
        await ExecAsync(conn, other, "SELECT 1 FROM sessions WHERE id = @id FOR UPDATE", ids[^1]);
        var logoutAll = Client.SendAsync(HttpMethod.Post, "/auth/logout-all", first.Token);   // locks the lower id, waits
        await Poll.UntilAsync(async () => await LockWaitersAsync() >= 1, "the logout-all waits for the higher id");
        // Closes the cycle well within the logout-all's deadlock_timeout (1 s): its check, which runs once, finds it.
        var otherLocksTheLower = ExecAsync(conn, other, "SELECT 1 FROM sessions WHERE id = @id FOR UPDATE", ids[0]);

        using var response = await logoutAll;
        await response.AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "transaction-conflict");
        Assert.NotNull(response.Headers.RetryAfter);
        await otherLocksTheLower;   // the other transaction got the row the logout-all gave up
        await other.RollbackAsync();
        Assert.Equal(2, (await SessionsAsync(first.UserId)).Count);   // nothing was revoked
    }

    private async Task<List<(Guid Id, DateTime CreatedAt)>> SessionsAsync(Guid userId)
    {
        await using var conn = new NpgsqlConnection(App.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT id, created_at FROM sessions WHERE user_id = @u AND revoked_at IS NULL", conn);
        cmd.Parameters.AddWithValue("u", userId);
        var list = new List<(Guid, DateTime)>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) list.Add((reader.GetGuid(0), reader.GetDateTime(1)));
        return list;
    }

    private static async Task ExecAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string sql, Guid id)
    {
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        cmd.Parameters.AddWithValue("id", id);
        await cmd.ExecuteNonQueryAsync();
    }
}
