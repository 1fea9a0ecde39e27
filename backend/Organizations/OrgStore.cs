using Backend.Authz;
using Backend.Data;
using Backend.Infrastructure;
using Npgsql;

namespace Backend.Organizations;

/// <summary>
/// Organisations and memberships in PostgreSQL. Role checks run on the primary (they grant access); only the member
/// listing, shown after such a check, may read from a standby.
/// </summary>
internal sealed class OrgStore(NpgsqlDataSource db, ReadDataSource reads)
{
    /// <summary>Creates the organisation with its creator as owner, in the caller's transaction (the audit record joins it).</summary>
    public async Task<OrgDto> CreateAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string name, Guid creator, DateTime now)
    {
        await using var cmd = new NpgsqlCommand("""
            WITH o AS (INSERT INTO organizations (name, created_by, created_at) VALUES (@n, @u, @now) RETURNING id, name, created_at),
                 m AS (INSERT INTO org_members (org_id, user_id, role, created_at) SELECT id, @u, 'owner', @now FROM o)
            SELECT id, name, created_at FROM o
            """, conn, tx);
        cmd.Parameters.AddWithValue("n", name);
        cmd.Parameters.AddWithValue("u", creator);
        cmd.Parameters.AddWithValue("now", now);
        await using var r = await cmd.ExecuteReaderAsync();
        await r.ReadAsync();
        return new OrgDto(r.GetGuid(0), r.GetString(1), r.GetDateTime(2), Permissions.Roles.Owner);
    }

    /// <summary>The organisation as seen by <paramref name="userId"/>; null when it does not exist or the user is not a member.</summary>
    public async Task<OrgDto?> GetForMemberAsync(Guid orgId, Guid userId)
    {
        await using var cmd = db.CreateCommand("""
            SELECT o.id, o.name, o.created_at, m.role FROM organizations o
            JOIN org_members m ON m.org_id = o.id AND m.user_id = @u
            WHERE o.id = @o
            """);
        cmd.Parameters.AddWithValue("o", orgId);
        cmd.Parameters.AddWithValue("u", userId);
        await using var r = await cmd.ExecuteReaderAsync();
        return await r.ReadAsync() ? new OrgDto(r.GetGuid(0), r.GetString(1), r.GetDateTime(2), r.GetString(3)) : null;
    }

    public async Task<string?> RoleOfAsync(Guid orgId, Guid userId)
    {
        await using var cmd = db.CreateCommand("SELECT role FROM org_members WHERE user_id = @u AND org_id = @o");
        cmd.Parameters.AddWithValue("o", orgId);
        cmd.Parameters.AddWithValue("u", userId);
        return await cmd.ExecuteScalarAsync() as string;
    }

    public async Task<Page<MemberDto>> ListMembersAsync(Guid orgId, string? cursor, int limit)
    {
        bool hasCursor = Cursor.TryDecode(cursor, out _, out var afterKey) && Guid.TryParse(afterKey, out _);
        await using var cmd = reads.CreateCommand("""
            SELECT m.user_id, u.email, u.name, m.role, m.created_at
            FROM org_members m JOIN users u ON u.id = m.user_id
            WHERE m.org_id = @o AND (NOT @hasCursor OR m.user_id > @after)
            ORDER BY m.user_id LIMIT @n
            """);
        cmd.Parameters.AddWithValue("o", orgId);
        cmd.Parameters.AddWithValue("hasCursor", hasCursor);
        cmd.Parameters.AddWithValue("after", hasCursor ? Guid.Parse(afterKey) : Guid.Empty);
        cmd.Parameters.AddWithValue("n", limit + 1);
        var items = new List<MemberDto>(limit);
        string? next = null;
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync())
        {
            if (items.Count == limit) { next = Cursor.Encode(items[^1].UserId.ToString()); break; }
            items.Add(new MemberDto(r.GetGuid(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetDateTime(4)));
        }
        return new Page<MemberDto>(items, next);
    }

    /// <summary>
    /// Changes a member's role (<paramref name="newRole"/>) or removes them (null), enforcing under row locks held until
    /// the caller's transaction ends: only owners touch owners or grant owner, and the last owner is never removed or
    /// demoted. Any member may leave (remove themselves) without <c>members:write</c>: a membership one cannot end is
    /// one somebody else imposed. A change to the role the member already has changes nothing: no write, so no fence, no
    /// invalidation and no audit record (each would log every session of the user out of its cached principal for nothing).
    /// </summary>
    public async Task<MembershipOutcome> ChangeAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid orgId, Guid actorId, Guid targetId, string? newRole)
    {
        // Lock the organisation's members in a stable order so concurrent changes serialise (no deadlock, no lost last owner).
        var roles = new Dictionary<Guid, string>();
        await using (var cmd = new NpgsqlCommand("""
            SELECT user_id, role FROM org_members WHERE org_id = @o AND (role = 'owner' OR user_id = ANY(@ids))
            ORDER BY user_id FOR UPDATE
            """, conn, tx))
        {
            cmd.Parameters.AddWithValue("o", orgId);
            cmd.Parameters.AddWithValue("ids", new[] { actorId, targetId });
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync()) roles[r.GetGuid(0)] = r.GetString(1);
        }
        roles.TryGetValue(actorId, out var actorRole);
        if (!roles.TryGetValue(targetId, out var targetRole)) return new(MembershipChange.NotMember, null);
        bool leaving = newRole is null && actorId == targetId;
        if (!leaving)
        {
            if (!Permissions.Allows(actorRole, Permissions.MembersWrite)) return new(MembershipChange.Forbidden, targetRole);
            bool touchesOwner = targetRole == Permissions.Roles.Owner || newRole == Permissions.Roles.Owner;
            if (touchesOwner && !Permissions.Allows(actorRole, Permissions.MembersManageOwners)) return new(MembershipChange.Forbidden, targetRole);
        }
        if (targetRole == Permissions.Roles.Owner && newRole != Permissions.Roles.Owner)
        {
            int owners = 0;
            foreach (var role in roles.Values) if (role == Permissions.Roles.Owner) owners++;
            if (owners <= 1) return new(MembershipChange.LastOwner, targetRole);
        }
        if (newRole == targetRole) return new(MembershipChange.Unchanged, targetRole);
        await using (var cmd = newRole is null
            ? new NpgsqlCommand("DELETE FROM org_members WHERE org_id = @o AND user_id = @u", conn, tx)
            : new NpgsqlCommand("UPDATE org_members SET role = @r WHERE org_id = @o AND user_id = @u", conn, tx))
        {
            cmd.Parameters.AddWithValue("o", orgId);
            cmd.Parameters.AddWithValue("u", targetId);
            if (newRole is not null) cmd.Parameters.AddWithValue("r", newRole);
            await cmd.ExecuteNonQueryAsync();
        }
        return new(MembershipChange.Done, targetRole);
    }
}
