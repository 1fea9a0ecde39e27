using Backend.Authz;
using Npgsql;
using TestInfrastructure;

namespace Backend.Tests.Data;

/// <summary>
/// Each hot query, EXPLAINed on a seeded and ANALYZEd database, must use the index it was designed for.
/// The queries are the ones the stores run (same predicates and ordering).
/// </summary>
public sealed class QueryPlanTests(PostgresFixture postgres) : IAsyncLifetime
{
    // xUnit builds one instance per test: seed one database for the whole class.
    private static readonly SemaphoreSlim SeedGate = new(1, 1);
    private static string? _seeded;
    private string _cs = "";
    private static readonly DateTime Now = new(2026, 11, 22, 10, 0, 0, DateTimeKind.Utc);

    public async ValueTask InitializeAsync()
    {
        await SeedGate.WaitAsync();
        try { _cs = _seeded ??= await SeedAsync(postgres); }
        finally { SeedGate.Release(); }
    }

    private static async Task<string> SeedAsync(PostgresFixture postgres)
    {
        string cs = await MigrationTests.MigratedDatabaseAsync(postgres);
        await using var conn = new NpgsqlConnection(cs);
        await conn.OpenAsync();
        await using var seed = new NpgsqlCommand("""
            INSERT INTO users (id, email, email_normalized, name, password_hash)
            SELECT md5('u' || i)::uuid, 'u' || i || '@example.com', 'u' || i || '@example.com', 'User ' || i, 'x'
            FROM generate_series(1, 20000) i;
            INSERT INTO sessions (user_id, token_hash, created_at, last_seen_at, expires_at, idle_expires_at, revoked_at)
            SELECT md5('u' || (i % 20000 + 1))::uuid, md5('t' || i) || md5('s' || i),
                   @now - (i % 1000) * interval '1 minute', @now, @now + interval '3 days' - (i % 500) * interval '1 second',
                   @now + interval '30 minutes', CASE WHEN i % 50 = 0 THEN @now - interval '2 days' END
            FROM generate_series(1, 60000) i;
            INSERT INTO organizations (id, name, created_by)
            SELECT md5('o' || i)::uuid, 'Org ' || i, md5('u' || i)::uuid FROM generate_series(1, 2000) i;
            INSERT INTO org_members (org_id, user_id, role)
            SELECT md5('o' || (i % 2000 + 1))::uuid, md5('u' || i)::uuid,
                   CASE WHEN i % 97 = 0 THEN 'owner' WHEN i % 11 = 0 THEN 'admin' ELSE 'member' END
            FROM generate_series(1, 20000) i;
            INSERT INTO audit_events (user_id, org_id, event_type, at, details)
            SELECT md5('u' || (i % 20000 + 1))::uuid, NULL,
                   (ARRAY['login.success','login.failure','logout','register','password.change','session.revoked','logout-all','membership.added'])[i % 8 + 1],
                   @now - i * interval '1 second', '{}'
            FROM generate_series(1, 80000) i;
            INSERT INTO org_invitations (org_id, email, email_normalized, role, invited_by, created_at, expires_at)
            SELECT md5('o' || (i % 2000 + 1))::uuid, 'i' || i || '@example.com', 'i' || i || '@example.com', 'member',
                   md5('u' || i)::uuid, @now, @now + interval '7 days'
            FROM generate_series(1, 20000) i;
            ANALYZE;
            """, conn);
        seed.Parameters.AddWithValue("now", Now);
        await seed.ExecuteNonQueryAsync();
        return cs;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private async Task<string> PlanAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var conn = new NpgsqlConnection(_cs);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("EXPLAIN " + sql, conn);
        foreach (var (name, value) in parameters) cmd.Parameters.AddWithValue(name, value);
        var lines = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) lines.Add(reader.GetString(0));
        return string.Join('\n', lines);
    }

    private static Guid User(int i) => new(Convert.ToHexString(System.Security.Cryptography.MD5.HashData(System.Text.Encoding.ASCII.GetBytes("u" + i))));

    [Fact]
    public async Task LoginByEmail_UsesUniqueNormalizedEmailIndex() =>
        Assert.Contains("ux_users_email_normalized", await PlanAsync(
            "SELECT id, password_hash FROM users WHERE email_normalized = @n", ("n", "u123@example.com")));

    [Fact]
    public async Task SessionByTokenHash_UsesLiveTokenHashIndex() =>
        Assert.Contains("ux_sessions_token_hash_live", await PlanAsync(
            "SELECT id, user_id FROM sessions WHERE token_hash = @h AND revoked_at IS NULL AND expires_at > @now AND idle_expires_at > @now",
            ("h", new string('a', 64)), ("now", Now)));

    [Fact]
    public async Task SessionsByUser_UsesLiveUserIndex() =>
        Assert.Contains("ix_sessions_user_live", await PlanAsync("""
            SELECT id, created_at FROM sessions
            WHERE user_id = @u AND revoked_at IS NULL AND expires_at > @now AND idle_expires_at > @now
            ORDER BY created_at DESC, id DESC LIMIT 51
            """, ("u", User(7)), ("now", Now)));

    [Fact]
    public async Task ExpiryCleanup_UsesExpiryIndex() =>
        Assert.Contains("ix_sessions_expires_at", await PlanAsync(
            "SELECT id FROM sessions WHERE expires_at <= @now LIMIT 1000", ("now", Now.AddDays(3).AddSeconds(-499))));

    [Fact]
    public async Task RevokedCleanup_UsesRevokedIndex() =>
        Assert.Contains("ix_sessions_revoked_at", await PlanAsync(
            "SELECT id FROM sessions WHERE revoked_at <= @before LIMIT 1000", ("before", Now.AddDays(-3))));

    [Fact]
    public async Task MembershipsByUser_UsesUserOrgIndex() =>
        Assert.Contains("ux_org_members_user_org", await PlanAsync(
            "SELECT org_id, role FROM org_members WHERE user_id = @u", ("u", User(42))));

    [Fact]
    public async Task MembersByOrgAndRole_UsesOrgRoleIndex() =>
        Assert.Contains("ix_org_members_org_role", await PlanAsync(
            "SELECT user_id FROM org_members WHERE org_id = @o AND role = 'owner'",
            ("o", new Guid(Convert.ToHexString(System.Security.Cryptography.MD5.HashData("o5"u8))))));

    [Fact]
    public async Task InvitationsOfAnAccount_UseTheEmailIndex() =>
        Assert.Contains("ix_org_invitations_email", await PlanAsync("""
            SELECT i.id FROM users u JOIN org_invitations i ON i.email_normalized = u.email_normalized
            JOIN organizations o ON o.id = i.org_id
            JOIN org_members inviter ON inviter.org_id = i.org_id AND inviter.user_id = i.invited_by
            WHERE u.id = @u AND inviter.role = ANY(@inviters) AND (i.role <> 'owner' OR inviter.role = ANY(@ownerInviters))
              AND i.expires_at > @now AND (NOT @hasCursor OR (i.created_at, i.id) > (@now, @afterId))
            ORDER BY i.created_at, i.id LIMIT 51
            """, ("u", User(42)), ("now", Now), ("hasCursor", false), ("afterId", Guid.Empty),
            ("inviters", Permissions.RolesAllowing(Permissions.MembersWrite)),
            ("ownerInviters", Permissions.RolesAllowing(Permissions.MembersManageOwners))));

    [Fact]
    public async Task ExpiredInvitations_AreFoundByTheExpiryIndex() =>
        Assert.Contains("ix_org_invitations_expires_at", await PlanAsync(
            "SELECT id FROM org_invitations WHERE expires_at <= @now LIMIT 1000", ("now", Now)));

    [Fact]
    public async Task AuditByUser_UsesUserTimeIndex() =>
        Assert.Contains("ix_audit_user_at", await PlanAsync(
            "SELECT id FROM audit_events WHERE user_id = @u ORDER BY at DESC, id DESC LIMIT 51", ("u", User(9))));

    [Fact]
    public async Task AuditByEventType_UsesTypeTimeIndex() =>
        Assert.Contains("ix_audit_type_at", await PlanAsync(
            "SELECT id FROM audit_events WHERE event_type = @t ORDER BY at DESC, id DESC LIMIT 51", ("t", "logout")));
}
