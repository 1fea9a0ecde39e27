using System.Net;
using Backend.Tests.Support;
using Npgsql;
using TestInfrastructure;

namespace Backend.Tests.Invalidation;

/// <summary>
/// A change commits together with what must follow it: a profile update with its cache invalidation (else cached
/// responses stay stale until their TTL), a revocation or a membership change with its audit record (else the audit
/// log misses a logout or a grant).
/// The fault that would split them: the second write fails after the first. A trigger makes it fail here.
/// </summary>
public sealed class AtomicChangeTests(PostgresFixture postgres, RedisFixture redis) : BackendTest(postgres, redis)
{
    [Fact]
    public async Task ProfileUpdate_WhoseInvalidationCannotBeQueued_ChangesNothing()
    {
        var login = await Client.NewUserAsync();
        await FailInsertsIntoAsync("invalidation_outbox");

        var failed = await Client.SendAsync(HttpMethod.Put, "/users/profile", login.Token, new { name = "Never Stored" });
        Assert.True((int)failed.StatusCode >= 500, $"expected a server error, got {(int)failed.StatusCode}");

        await AllowInsertsIntoAsync("invalidation_outbox");
        var me = await (await Client.SendAsync(HttpMethod.Get, "/auth/me", login.Token)).ReadJsonAsync();
        Assert.Equal("Test User", me.GetProperty("name").GetString());
    }

    [Fact]
    public async Task Logout_WhoseAuditRecordCannotBeWritten_RevokesNothing_AndTheRetryRevokesAndRecordsOnce()
    {
        var login = await Client.NewUserAsync();
        await FailInsertsIntoAsync("audit_events");

        var failed = await Client.SendAsync(HttpMethod.Post, "/auth/logout", login.Token);
        Assert.True((int)failed.StatusCode >= 500, $"expected a server error, got {(int)failed.StatusCode}");
        Assert.Equal(HttpStatusCode.OK, (await Client.SendAsync(HttpMethod.Get, "/auth/me", login.Token)).StatusCode);
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM invalidation_outbox WHERE kind = 'session'"));

        await AllowInsertsIntoAsync("audit_events");
        Assert.Equal(HttpStatusCode.NoContent, (await Client.SendAsync(HttpMethod.Post, "/auth/logout", login.Token)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Client.SendAsync(HttpMethod.Get, "/auth/me", login.Token)).StatusCode);
        Assert.Equal(1, await CountAsync($"SELECT count(*) FROM audit_events WHERE event_type = 'logout' AND user_id = '{login.UserId}'"));
    }

    [Fact]
    public async Task SessionDelete_WhoseAuditRecordCannotBeWritten_RevokesNothing_AndTheRetryRevokesAndRecordsOnce()
    {
        var first = await Client.NewUserAsync();
        var second = await Client.LoginAsync(first.Email);
        var other = await Client.OtherSessionIdAsync(first.Token);
        await FailInsertsIntoAsync("audit_events");

        var failed = await Client.SendAsync(HttpMethod.Delete, $"/users/me/sessions/{other}", first.Token);
        Assert.True((int)failed.StatusCode >= 500, $"expected a server error, got {(int)failed.StatusCode}");
        Assert.Equal(HttpStatusCode.OK, (await Client.SendAsync(HttpMethod.Get, "/auth/me", second.Token)).StatusCode);
        Assert.Equal(0, await CountAsync($"SELECT count(*) FROM invalidation_outbox WHERE user_id = '{first.UserId}'"));

        await AllowInsertsIntoAsync("audit_events");
        Assert.Equal(HttpStatusCode.NoContent, (await Client.SendAsync(HttpMethod.Delete, $"/users/me/sessions/{other}", first.Token)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Client.SendAsync(HttpMethod.Get, "/auth/me", second.Token)).StatusCode);
        Assert.Equal(1, await CountAsync($"SELECT count(*) FROM audit_events WHERE event_type = 'session.revoked' AND user_id = '{first.UserId}'"));
    }

    [Fact]
    public async Task Logout_RecordsItsAuditEvent_WithTheSession_AndTheRevocationTime()
    {
        var login = await Client.NewUserAsync();
        Guid sessionId = (await (await Client.SendAsync(HttpMethod.Get, "/auth/me", login.Token)).ReadJsonAsync()).GetProperty("sessionId").GetGuid();

        Assert.Equal(HttpStatusCode.NoContent, (await Client.SendAsync(HttpMethod.Post, "/auth/logout", login.Token)).StatusCode);

        // The record is written by the revoking statement itself: same session, same instant as revoked_at.
        Assert.Equal(1, await CountAsync($"""
            SELECT count(*) FROM audit_events a JOIN sessions s ON s.id = (a.details->>'sessionId')::uuid
            WHERE a.event_type = 'logout' AND a.user_id = '{login.UserId}' AND s.id = '{sessionId}'
              AND a.at = s.revoked_at AND a.org_id IS NULL
            """));
        Assert.Equal(HttpStatusCode.Unauthorized, (await Client.SendAsync(HttpMethod.Post, "/auth/logout", login.Token)).StatusCode);
        Assert.Equal(1, await CountAsync($"SELECT count(*) FROM audit_events WHERE event_type = 'logout' AND user_id = '{login.UserId}'"));
    }

    [Fact]
    public async Task Logout_WhoseDeliveredOutboxRowCannotBeDeleted_StillSucceeds_AndLeavesTheRowForTheRelay()
    {
        var login = await Client.NewUserAsync();
        await ExecuteAsync("""
            CREATE FUNCTION fail_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$;
            CREATE TRIGGER fail_delete BEFORE DELETE ON invalidation_outbox FOR EACH ROW EXECUTE FUNCTION fail_delete();
            """);
        try
        {
            // Redis acknowledged the revocation, so it holds at the edge: the leftover row is bookkeeping, not a failure.
            Assert.Equal(HttpStatusCode.NoContent, (await Client.SendAsync(HttpMethod.Post, "/auth/logout", login.Token)).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await Client.SendAsync(HttpMethod.Get, "/auth/me", login.Token)).StatusCode);
            Assert.Equal(1, await CountAsync($"SELECT count(*) FROM invalidation_outbox WHERE user_id = '{login.UserId}' AND kind = 'session'"));
        }
        finally
        {
            await ExecuteAsync("DROP TRIGGER fail_delete ON invalidation_outbox; DROP FUNCTION fail_delete();");
        }
    }

    [Fact]
    public async Task MembershipChanges_WhoseAuditRecordCannotBeWritten_ChangeNothing()
    {
        var owner = await Client.NewUserAsync();
        var member = await Client.NewUserAsync();
        var created = await Client.SendAsync(HttpMethod.Post, "/orgs", owner.Token, new { name = "Atomic" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        string org = (await created.ReadJsonAsync()).GetProperty("id").GetString()!;
        var invitation = await Client.InviteAsync(owner, Guid.Parse(org), member.Email, "member");
        await FailInsertsIntoAsync("audit_events");

        var add = await Client.AcceptAsync(invitation, member);
        var invite = await Client.SendAsync(HttpMethod.Post, $"/orgs/{org}/invitations", owner.Token, new { email = Api.NewEmail(), role = "member" });
        var create = await Client.SendAsync(HttpMethod.Post, "/orgs", owner.Token, new { name = "Never Created" });

        Assert.True((int)add.StatusCode >= 500, $"accepting an invitation: expected a server error, got {(int)add.StatusCode}");
        Assert.True((int)invite.StatusCode >= 500, $"inviting: expected a server error, got {(int)invite.StatusCode}");
        Assert.Equal(1, await CountAsync($"SELECT count(*) FROM org_invitations WHERE org_id = '{org}'"));
        Assert.True((int)create.StatusCode >= 500, $"creating an organisation: expected a server error, got {(int)create.StatusCode}");
        Assert.Equal(0, await CountAsync($"SELECT count(*) FROM org_members WHERE user_id = '{member.UserId}'"));
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM organizations WHERE name = 'Never Created'"));

        await AllowInsertsIntoAsync("audit_events");
        Assert.Equal(HttpStatusCode.OK, (await Client.AcceptAsync(invitation, member)).StatusCode);
        await FailInsertsIntoAsync("audit_events");
        var promote = await Client.SendAsync(HttpMethod.Patch, $"/orgs/{org}/members/{member.UserId}", owner.Token, new { role = "admin" });
        var remove = await Client.SendAsync(HttpMethod.Delete, $"/orgs/{org}/members/{member.UserId}", owner.Token);

        Assert.True((int)promote.StatusCode >= 500 && (int)remove.StatusCode >= 500, $"got {(int)promote.StatusCode} and {(int)remove.StatusCode}");
        Assert.Equal(1, await CountAsync($"SELECT count(*) FROM org_members WHERE user_id = '{member.UserId}' AND role = 'member'"));
    }

    private Task FailInsertsIntoAsync(string table) => ExecuteAsync($"""
        CREATE FUNCTION fail_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$;
        CREATE TRIGGER fail_insert BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION fail_insert();
        """);

    private Task AllowInsertsIntoAsync(string table) => ExecuteAsync($"DROP TRIGGER fail_insert ON {table}; DROP FUNCTION fail_insert();");

    private Task ExecuteAsync(string sql) => ScalarAsync(sql);

    private async Task<long> CountAsync(string sql) => (long)(await ScalarAsync(sql))!;

    private async Task<object?> ScalarAsync(string sql)
    {
        await using var conn = new NpgsqlConnection(App.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        return await cmd.ExecuteScalarAsync();
    }
}
