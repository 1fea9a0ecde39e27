using System.Text.Json;
using Backend.Audit;
using Backend.Data;
using Backend.Infrastructure;
using Backend.Invalidation;
using Microsoft.Extensions.Options;
using Npgsql;
using Gateway.Contracts;

namespace Backend.Sessions;

/// <summary>
/// Sessions in PostgreSQL. Tokens are never stored: only their SHA-256 hex (<c>token_hash</c>).
/// Everything runs on the primary except <see cref="ListAsync"/>: a standby that lags must never answer whether a
/// session is live, or a revoked token would pass.
/// </summary>
internal sealed class SessionStore(NpgsqlDataSource db, ReadDataSource reads, IOptions<SessionOptions> options)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly SessionOptions _options = options.Value;

    // Turns a CTE "s(id, user_id, token_hash, expires_at, idle_expires_at)" into principals in the same statement.
    private const string SelectPrincipal = """
        SELECT s.token_hash, s.id, s.user_id, u.email, s.expires_at, s.idle_expires_at,
               COALESCE((SELECT json_agg(json_build_object('id', m.org_id, 'role', m.role) ORDER BY m.org_id)
                         FROM org_members m WHERE m.user_id = s.user_id), '[]'::json)::text,
               u.principal_version
        FROM s JOIN users u ON u.id = s.user_id
        """;

    /// <summary>
    /// A login's session, only while the user's password is still <paramref name="verifiedPasswordHash"/>, the hash the
    /// login verified; null once it changed. The user's row is read <c>FOR SHARE</c>: a password change (which updates
    /// that row before it revokes the user's sessions, in one transaction) either waits for this insert and then revokes
    /// the session, or commits first and this finds a new hash. Without it, a login that verified the old password while
    /// the owner changed it created a session after the change's revocation: a live session from the old password.
    /// The principal is read by a second statement, after the session is committed. Read in the insert's own statement,
    /// it came from that statement's snapshot, taken before it waited for the row: a login that waited for a membership
    /// change (its trigger holds the row) inserted the session after the change but returned, and stored in Redis, the
    /// membership from before it, unfenced (the change fenced only the sessions that existed). Now a change either
    /// committed before the read, which sees it, or commits after the session existed, and fences it.
    /// </summary>
    public async Task<HashedPrincipal?> CreateAsync(Guid userId, string verifiedPasswordHash, string tokenHash, string? ip, string? userAgent, DateTime now)
    {
        await using (var insert = db.CreateCommand("""
            INSERT INTO sessions (user_id, token_hash, created_at, last_seen_at, expires_at, idle_expires_at, client_ip, user_agent)
            SELECT id, @h, @now, @now, @now + @abs, LEAST(@now + @abs, @now + @idle), @ip, @ua
            FROM users WHERE id = @u AND password_hash = @ph FOR SHARE
            """))
        {
            insert.Parameters.AddWithValue("u", userId);
            insert.Parameters.AddWithValue("ph", verifiedPasswordHash);
            insert.Parameters.AddWithValue("h", tokenHash);
            insert.Parameters.AddWithValue("now", now);
            insert.Parameters.AddWithValue("abs", _options.AbsoluteLifetime);
            insert.Parameters.AddWithValue("idle", _options.IdleTimeout);
            insert.Parameters.AddWithValue("ip", (object?)ip ?? DBNull.Value);
            insert.Parameters.AddWithValue("ua", (object?)userAgent ?? DBNull.Value);
            if (await insert.ExecuteNonQueryAsync() == 0) return null;
        }
        await using var read = db.CreateCommand($"""
            WITH s AS (
              SELECT x.id, x.user_id, x.token_hash, x.expires_at, x.idle_expires_at FROM sessions x
              WHERE x.token_hash = @h AND x.revoked_at IS NULL)
            {SelectPrincipal}
            """);
        read.Parameters.AddWithValue("h", tokenHash);
        var list = await ReadPrincipalsAsync(read);
        // Empty when a logout-all or password change revoked the session in between: refused like a changed password.
        return list.Count == 0 ? null : list[0];
    }

    /// <summary>The live session of a token hash (not revoked, not expired, not idle), or null. Read-only.</summary>
    public async Task<(Guid SessionId, Guid UserId)?> FindLiveAsync(string tokenHash, DateTime now)
    {
        await using var cmd = db.CreateCommand("""
            SELECT id, user_id FROM sessions
            WHERE token_hash = @h AND revoked_at IS NULL AND expires_at > @now AND idle_expires_at > @now
            """);
        cmd.Parameters.AddWithValue("h", tokenHash);
        cmd.Parameters.AddWithValue("now", now);
        await using var reader = await cmd.ExecuteReaderAsync();
        if (!await reader.ReadAsync()) return null;
        return (reader.GetGuid(0), reader.GetGuid(1));
    }

    /// <summary>Introspection: counts as activity (slides the idle expiry, never past the absolute one) and returns the principal.</summary>
    public async Task<HashedPrincipal?> IntrospectAsync(string tokenHash, DateTime now)
    {
        var list = await TouchByHashesAsync([tokenHash], now);
        return list.Count == 0 ? null : list[0];
    }

    /// <summary>The principal of a live session, without counting the lookup as activity (the idle expiry stays).</summary>
    public async Task<HashedPrincipal?> FindPrincipalAsync(string tokenHash, DateTime now)
    {
        await using var cmd = db.CreateCommand($"""
            WITH s AS (
              SELECT x.id, x.user_id, x.token_hash, x.expires_at, x.idle_expires_at FROM sessions x
              WHERE x.token_hash = @h AND x.revoked_at IS NULL AND x.expires_at > @now AND x.idle_expires_at > @now)
            {SelectPrincipal}
            """);
        cmd.Parameters.AddWithValue("h", tokenHash);
        cmd.Parameters.AddWithValue("now", now);
        var list = await ReadPrincipalsAsync(cmd);
        return list.Count == 0 ? null : list[0];
    }

    // Lock order. A statement that changes several sessions locks them first, with a materialised
    // "SELECT id ... ORDER BY id FOR UPDATE", so every such statement (touches, the activity flush, logout-all and
    // password change, the clean-up) locks in one global order. Each used to lock in its own plan's order (a token-hash
    // index, a user index by creation time, a heap scan), and two of them sharing two sessions could deadlock:
    // PostgreSQL then failed one, and a logout-all answered 503 "database unavailable". Single-row statements cannot
    // take part in such a cycle.

    /// <summary>
    /// Marks the live sessions of these hashes as seen now; returns their refreshed principals. Locks in id order, as
    /// every statement that locks several sessions does ("Lock order" above).
    /// </summary>
    public async Task<List<HashedPrincipal>> TouchByHashesAsync(string[] tokenHashes, DateTime now)
    {
        await using var cmd = db.CreateCommand($"""
            WITH l AS MATERIALIZED (
              SELECT id FROM sessions
              WHERE token_hash = ANY(@hashes) AND revoked_at IS NULL AND expires_at > @now AND idle_expires_at > @now
              ORDER BY id FOR UPDATE),
            s AS (
              UPDATE sessions x
              SET last_seen_at = GREATEST(x.last_seen_at, @now),
                  idle_expires_at = GREATEST(x.idle_expires_at, LEAST(x.expires_at, @now + @idle))
              FROM l
              WHERE x.id = l.id AND x.revoked_at IS NULL AND x.expires_at > @now AND x.idle_expires_at > @now
              RETURNING x.id, x.user_id, x.token_hash, x.expires_at, x.idle_expires_at)
            {SelectPrincipal}
            """);
        cmd.Parameters.AddWithValue("hashes", tokenHashes);
        cmd.Parameters.AddWithValue("now", now);
        cmd.Parameters.AddWithValue("idle", _options.IdleTimeout);
        return await ReadPrincipalsAsync(cmd);
    }

    /// <summary>Writes buffered activity (session id, seen at) in one UPDATE, locking in id order; returns the refreshed principals.</summary>
    public async Task<List<HashedPrincipal>> TouchByIdsAsync(Guid[] ids, DateTime[] seenAt)
    {
        await using var cmd = db.CreateCommand($"""
            WITH v AS (SELECT * FROM unnest(@ids, @times) AS v(id, t)),
            l AS MATERIALIZED (SELECT id FROM sessions WHERE id = ANY(@ids) AND revoked_at IS NULL ORDER BY id FOR UPDATE),
            s AS (
              UPDATE sessions x
              SET last_seen_at = GREATEST(x.last_seen_at, v.t),
                  idle_expires_at = GREATEST(x.idle_expires_at, LEAST(x.expires_at, v.t + @idle))
              FROM v JOIN l ON l.id = v.id
              WHERE x.id = v.id AND x.revoked_at IS NULL AND x.expires_at > v.t AND x.idle_expires_at > v.t
              RETURNING x.id, x.user_id, x.token_hash, x.expires_at, x.idle_expires_at)
            {SelectPrincipal}
            """);
        cmd.Parameters.AddWithValue("ids", ids);
        cmd.Parameters.AddWithValue("times", seenAt);
        cmd.Parameters.AddWithValue("idle", _options.IdleTimeout);
        return await ReadPrincipalsAsync(cmd);
    }

    /// <summary>
    /// Revokes one live session of the user, queues its fence and invalidation (see <see cref="Invalidation.InvalidationOutbox"/>)
    /// and records <paramref name="audit"/>, all in one statement: one round trip and one commit, and no revocation
    /// without its outbox entry or its record. Null when there was no such live session (nothing is recorded then).
    /// </summary>
    public async Task<Revocation?> RevokeAsync(Guid userId, Guid sessionId, DateTime now, string reason, AuditEntry audit)
    {
        await using var cmd = db.CreateCommand($"""
            WITH r AS (
              UPDATE sessions SET revoked_at = @now
              WHERE id = @id AND user_id = @u AND revoked_at IS NULL
              RETURNING token_hash, expires_at),
            o AS (
              INSERT INTO invalidation_outbox (kind, reason, user_id, token_hashes, fence, fence_until)
              SELECT 'session', @reason, @u, ARRAY[token_hash], -1, expires_at FROM r
              RETURNING {InvalidationOutbox.Columns}),
            a AS ({AuditLog.InsertFrom("r")})
            SELECT r.token_hash, o.* FROM r, o
            """);
        cmd.Parameters.AddWithValue("id", sessionId);
        cmd.Parameters.AddWithValue("u", userId);
        cmd.Parameters.AddWithValue("now", now);
        cmd.Parameters.AddWithValue("reason", reason);
        AuditLog.AddInsertParameters(cmd, audit, now);
        await using var reader = await cmd.ExecuteReaderAsync();
        return await reader.ReadAsync() ? new Revocation([reader.GetString(0)], InvalidationOutbox.ReadEntry(reader, 1)) : null;
    }

    /// <summary>
    /// Revokes every live session of the user except <paramref name="keep"/> and queues their fences and one user
    /// invalidation in the same statement (inside the caller's transaction when given). Sessions idle-expired for more
    /// than five minutes (a margin for clocks) are revoked but not fenced: no cache can hold them any more (every copy of a
    /// principal expires with its idle expiry), and a user whose script logs in without logging out has thousands.
    /// </summary>
    public async Task<Revocation> RevokeAllAsync(NpgsqlConnection? conn, NpgsqlTransaction? tx, Guid userId, DateTime now, string reason, Guid? keep = null)
    {
        await using var cmd = conn is null ? db.CreateCommand() : new NpgsqlCommand { Connection = conn, Transaction = tx };
        cmd.CommandText = $$"""
            WITH l AS MATERIALIZED (
              SELECT id FROM sessions WHERE user_id = @u AND revoked_at IS NULL AND (@keep::uuid IS NULL OR id <> @keep)
              ORDER BY id FOR UPDATE),
            r AS (
              UPDATE sessions x SET revoked_at = @now FROM l
              WHERE x.id = l.id AND x.revoked_at IS NULL
              RETURNING x.token_hash, x.expires_at, x.idle_expires_at),
            o AS (
              INSERT INTO invalidation_outbox (kind, reason, user_id, token_hashes, fence, fence_until)
              SELECT 'user', @reason, @u, COALESCE(array_agg(token_hash) FILTER (WHERE idle_expires_at > @now - interval '5 minutes'), '{}'), -1, max(expires_at) FROM r
              RETURNING {{InvalidationOutbox.Columns}})
            SELECT (SELECT COALESCE(array_agg(token_hash), '{}') FROM r), o.* FROM o
            """;
        cmd.Parameters.AddWithValue("u", userId);
        cmd.Parameters.AddWithValue("now", now);
        cmd.Parameters.AddWithValue("reason", reason);
        cmd.Parameters.Add(new NpgsqlParameter<Guid?>("keep", keep) { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid });
        await using var reader = await cmd.ExecuteReaderAsync();
        await reader.ReadAsync();
        return new Revocation(reader.GetFieldValue<string[]>(0), InvalidationOutbox.ReadEntry(reader, 1));
    }

    /// <summary>The profile page's list: from a standby when there is one; a session revoked a moment ago may linger there briefly.</summary>
    public async Task<Page<SessionInfo>> ListAsync(Guid userId, Guid currentSessionId, DateTime now, string? cursor, int limit)
    {
        bool hasCursor = Cursor.TryDecode(cursor, out var afterAt, out var afterKey) && Guid.TryParse(afterKey, out _);
        await using var cmd = reads.CreateCommand("""
            SELECT id, created_at, last_seen_at, client_ip, user_agent, expires_at, idle_expires_at
            FROM sessions
            WHERE user_id = @u AND revoked_at IS NULL AND expires_at > @now AND idle_expires_at > @now
              AND (NOT @hasCursor OR (created_at, id) < (@afterAt, @afterId))
            ORDER BY created_at DESC, id DESC
            LIMIT @n
            """);
        cmd.Parameters.AddWithValue("u", userId);
        cmd.Parameters.AddWithValue("now", now);
        cmd.Parameters.AddWithValue("hasCursor", hasCursor);
        cmd.Parameters.AddWithValue("afterAt", hasCursor ? afterAt : now);
        cmd.Parameters.AddWithValue("afterId", hasCursor ? Guid.Parse(afterKey) : Guid.Empty);
        cmd.Parameters.AddWithValue("n", limit + 1);
        var items = new List<SessionInfo>(limit);
        string? next = null;
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            if (items.Count == limit) { next = Cursor.Encode(items[^1].CreatedAt, items[^1].Id.ToString()); break; }
            var id = reader.GetGuid(0);
            items.Add(new SessionInfo(id, reader.GetDateTime(1), reader.GetDateTime(2),
                reader.IsDBNull(3) ? null : reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4),
                reader.GetDateTime(5), reader.GetDateTime(6), id == currentSessionId));
        }
        return new Page<SessionInfo>(items, next);
    }

    /// <summary>
    /// Deletes one batch of sessions that expired or were revoked longer ago than the retention. Sessions that only idled
    /// out are dead already (every lookup checks idle_expires_at) and go when their absolute expiry passes, via the index.
    /// </summary>
    public async Task<int> DeleteDeadBatchAsync(DateTime now, int batchSize)
    {
        await using var cmd = db.CreateCommand("""
            WITH l AS MATERIALIZED (
              SELECT id FROM sessions WHERE id IN (
                (SELECT id FROM sessions WHERE expires_at <= @now LIMIT @n)
                UNION ALL
                (SELECT id FROM sessions WHERE revoked_at <= @revokedBefore LIMIT @n))
              ORDER BY id FOR UPDATE)
            DELETE FROM sessions x USING l WHERE x.id = l.id
            """);
        cmd.Parameters.AddWithValue("now", now);
        cmd.Parameters.AddWithValue("revokedBefore", now - _options.RevokedRetention);
        cmd.Parameters.AddWithValue("n", batchSize);
        return await cmd.ExecuteNonQueryAsync();
    }

    private static async Task<List<HashedPrincipal>> ReadPrincipalsAsync(NpgsqlCommand cmd)
    {
        var list = new List<HashedPrincipal>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var orgs = JsonSerializer.Deserialize<OrgMembership[]>(reader.GetString(6), Json) ?? [];
            list.Add(new HashedPrincipal(reader.GetString(0), new SessionPrincipal(
                reader.GetGuid(2).ToString(), reader.GetGuid(1).ToString(), reader.GetString(3), orgs,
                reader.GetFieldValue<DateTimeOffset>(4), reader.GetFieldValue<DateTimeOffset>(5), reader.GetInt64(7))));
        }
        return list;
    }
}

/// <summary>Token hashes of revoked sessions and the outbox entry that tells Redis.</summary>
/// <summary>The revoked sessions' token hashes and the outbox entry that tells Redis (delivered from this copy first).</summary>
internal sealed record Revocation(string[] TokenHashes, OutboxEntry Entry);

/// <summary>A session as its owner sees it in <c>GET /users/me/sessions</c>.</summary>
internal sealed record SessionInfo(
    Guid Id, DateTime CreatedAt, DateTime LastSeenAt, string? ClientIp, string? UserAgent,
    DateTime ExpiresAt, DateTime IdleExpiresAt, bool Current);
