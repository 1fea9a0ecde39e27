using System.Text.Json;
using Backend.Invalidation;
using Npgsql;

namespace Backend.Users;

/// <summary>Users in PostgreSQL. Email uniqueness is enforced by the unique index on <c>email_normalized</c>.</summary>
internal sealed class UserStore(NpgsqlDataSource db)
{
    private const string UserColumns = "id, email, name, display_name, locale, timezone, created_at";

    /// <summary>Inserts the user; null when the normalised email is taken (the unique index decides races).</summary>
    public async Task<UserDto?> CreateAsync(string email, string name, string passwordHash, DateTime now)
    {
        await using var cmd = db.CreateCommand($"""
            INSERT INTO users (email, email_normalized, name, password_hash, created_at, updated_at)
            VALUES (@e, @n, @name, @h, @now, @now)
            ON CONFLICT (email_normalized) DO NOTHING
            RETURNING {UserColumns}
            """);
        cmd.Parameters.AddWithValue("e", email.Trim());
        cmd.Parameters.AddWithValue("n", UserValidation.NormalizeEmail(email));
        cmd.Parameters.AddWithValue("name", name.Trim());
        cmd.Parameters.AddWithValue("h", passwordHash);
        cmd.Parameters.AddWithValue("now", now);
        await using var reader = await cmd.ExecuteReaderAsync();
        return await reader.ReadAsync() ? ReadUser(reader, 0) : null;
    }

    public async Task<(UserDto User, string PasswordHash)?> FindForLoginAsync(string normalizedEmail)
    {
        await using var cmd = db.CreateCommand($"SELECT {UserColumns}, password_hash FROM users WHERE email_normalized = @n");
        cmd.Parameters.AddWithValue("n", normalizedEmail);
        await using var reader = await cmd.ExecuteReaderAsync();
        if (!await reader.ReadAsync()) return null;
        return (ReadUser(reader, 0), reader.GetString(7));
    }

    public async Task<Guid?> FindIdByEmailAsync(string normalizedEmail)
    {
        await using var cmd = db.CreateCommand("SELECT id FROM users WHERE email_normalized = @n");
        cmd.Parameters.AddWithValue("n", normalizedEmail);
        return await cmd.ExecuteScalarAsync() is Guid id ? id : null;
    }

    /// <summary>The profile and every membership (with organisation names) in one query.</summary>
    public async Task<MeDto?> GetMeAsync(Guid userId, Guid sessionId)
    {
        await using var cmd = db.CreateCommand($"""
            SELECT {UserColumns},
                   COALESCE((SELECT json_agg(json_build_object('id', o.id, 'name', o.name, 'role', m.role) ORDER BY o.name, o.id)
                             FROM org_members m JOIN organizations o ON o.id = m.org_id
                             WHERE m.user_id = u.id), '[]'::json)::text
            FROM users u WHERE u.id = @u
            """);
        cmd.Parameters.AddWithValue("u", userId);
        await using var reader = await cmd.ExecuteReaderAsync();
        if (!await reader.ReadAsync()) return null;
        var user = ReadUser(reader, 0);
        var orgs = JsonSerializer.Deserialize<List<MembershipDto>>(reader.GetString(7), JsonSerializerOptions.Web) ?? [];
        return new MeDto(user.Id, user.Email, user.Name, user.DisplayName, user.Locale, user.Timezone, user.CreatedAt, sessionId, orgs);
    }

    /// <summary>
    /// Updates the profile and queues its cache invalidation in one statement, so one commit holds both: a crash
    /// between them can no longer leave cached responses stale until their TTL. Null when the user no longer exists.
    /// </summary>
    public async Task<(UserDto User, OutboxEntry Invalidation)?> UpdateProfileAsync(Guid userId, ProfileRequest request, DateTime now)
    {
        await using var cmd = db.CreateCommand($"""
            WITH u AS (
              UPDATE users SET name = @name, display_name = @dn, locale = @loc, timezone = @tz, updated_at = @now
              WHERE id = @u RETURNING {UserColumns}),
            o AS (
              INSERT INTO invalidation_outbox (kind, reason, user_id)
              SELECT 'user-data', 'profile-update', id FROM u
              RETURNING {InvalidationOutbox.Columns})
            SELECT u.*, o.* FROM u, o
            """);
        cmd.Parameters.AddWithValue("u", userId);
        cmd.Parameters.AddWithValue("name", request.Name!.Trim());
        cmd.Parameters.AddWithValue("dn", (object?)request.DisplayName ?? DBNull.Value);
        cmd.Parameters.AddWithValue("loc", (object?)request.Locale ?? DBNull.Value);
        cmd.Parameters.AddWithValue("tz", (object?)request.Timezone ?? DBNull.Value);
        cmd.Parameters.AddWithValue("now", now);
        await using var reader = await cmd.ExecuteReaderAsync();
        return await reader.ReadAsync() ? (ReadUser(reader, 0), InvalidationOutbox.ReadEntry(reader, 7)) : null;
    }

    public async Task<string?> GetPasswordHashAsync(Guid userId)
    {
        await using var cmd = db.CreateCommand("SELECT password_hash FROM users WHERE id = @u");
        cmd.Parameters.AddWithValue("u", userId);
        return await cmd.ExecuteScalarAsync() as string;
    }

    /// <summary>
    /// Replaces the password hash only while it is still <paramref name="expected"/> (the one the caller verified against);
    /// false when another change came first. Unconditional, a login's rehash of the old password could undo a password
    /// change that committed during the login's verification, and of two changes that both verified the same current
    /// password the later silently won.
    /// </summary>
    public async Task<bool> ReplacePasswordHashAsync(Guid userId, string expected, string hash, DateTime now, NpgsqlConnection? conn = null, NpgsqlTransaction? tx = null)
    {
        const string sql = "UPDATE users SET password_hash = @h, updated_at = @now WHERE id = @u AND password_hash = @old";
        await using var cmd = conn is null ? db.CreateCommand(sql) : new NpgsqlCommand(sql, conn, tx);
        cmd.Parameters.AddWithValue("u", userId);
        cmd.Parameters.AddWithValue("old", expected);
        cmd.Parameters.AddWithValue("h", hash);
        cmd.Parameters.AddWithValue("now", now);
        return await cmd.ExecuteNonQueryAsync() == 1;
    }

    private static UserDto ReadUser(NpgsqlDataReader r, int o) => new(
        r.GetGuid(o), r.GetString(o + 1), r.GetString(o + 2),
        r.IsDBNull(o + 3) ? null : r.GetString(o + 3), r.IsDBNull(o + 4) ? null : r.GetString(o + 4),
        r.IsDBNull(o + 5) ? null : r.GetString(o + 5), r.GetDateTime(o + 6));
}
