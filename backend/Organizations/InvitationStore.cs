using System.Security.Cryptography;
using System.Text;
using Backend.Authz;
using Backend.Infrastructure;
using Npgsql;

namespace Backend.Organizations;

/// <summary>
/// Invitations to organisations in PostgreSQL. An invitation names an email address, never an account: creating one
/// reads no account, so its answer cannot tell whether the address has one. It belongs to the account whose normalised
/// email is the invitation's when that account lists, accepts or declines it.
/// </summary>
internal sealed class InvitationStore(NpgsqlDataSource db)
{
    /// <summary>How long an invitation can be accepted; inviting the address again renews it.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromDays(7);

    /// <summary>Pending (unexpired) invitations one organisation may have: beyond it, a new address is refused (409) until
    /// some are withdrawn, answered or expired. Renewing a pending one is always allowed. Concurrent invitations may pass
    /// it by a few: it bounds an organisation's invitations, it is not an exact quota. (Expired rows are not counted; the
    /// periodic clean-up deletes them.)</summary>
    public const int MaxPendingPerOrg = 1000;

    private const string Columns = "i.id, i.org_id, o.name, i.email, i.role, i.invited_by, i.created_at, i.expires_at";

    /// <summary>
    /// Invites <paramref name="emailNormalized"/> in the caller's transaction if <paramref name="actorId"/>'s role allows
    /// it (read under a share lock, as adding a member was: a removal or demotion of the actor committed meanwhile
    /// refuses it). A pending invitation of the address is renewed with the new role, unless it is an unexpired owner
    /// invitation and the actor cannot manage owners. <paramref name="tokenHash"/> (the accept token's hash) replaces the
    /// old one on renewal, so the old link stops working.
    /// </summary>
    public async Task<(InvitationCreate Outcome, InvitationDto? Invitation)> CreateAsync(NpgsqlConnection conn, NpgsqlTransaction tx,
        Guid orgId, Guid actorId, string email, string emailNormalized, string role, string tokenHash, DateTime now)
    {
        string? actorRole = await ActorRoleAsync(conn, tx, orgId, actorId);
        if (!Permissions.Allows(actorRole, Permissions.MembersWrite)) return (InvitationCreate.Forbidden, null);
        bool managesOwners = Permissions.Allows(actorRole, Permissions.MembersManageOwners);
        if (role == Permissions.Roles.Owner && !managesOwners) return (InvitationCreate.Forbidden, null);

        // Already a member: those who may invite may list the members, so this tells them nothing new.
        if (await IsMemberAsync(conn, tx, orgId, emailNormalized)) return (InvitationCreate.AlreadyMember, null);

        // The pending ones are counted against the bound. Expired ones are left to the periodic clean-up
        // (ExpiredRowsCleanup): deleting them here locked other addresses' rows, and two invitations of one organisation
        // renewing each other's purged rows deadlocked (one answered 503), or re-created a renewal under a new id.
        await using (var pending = new NpgsqlCommand("""
            SELECT count(*) FROM org_invitations WHERE org_id = @o AND expires_at > @now AND email_normalized <> @e
            """, conn, tx))
        {
            pending.Parameters.AddWithValue("o", orgId);
            pending.Parameters.AddWithValue("now", now);
            pending.Parameters.AddWithValue("e", emailNormalized);
            if ((long)(await pending.ExecuteScalarAsync())! >= MaxPendingPerOrg) return (InvitationCreate.TooManyPending, null);
        }

        await using var cmd = new NpgsqlCommand($"""
            WITH i AS (
                INSERT INTO org_invitations (org_id, email, email_normalized, role, invited_by, created_at, expires_at, token_hash)
                VALUES (@o, @email, @e, @r, @a, @now, @until, @token)
                ON CONFLICT (org_id, email_normalized) DO UPDATE
                    SET email = excluded.email, role = excluded.role, invited_by = excluded.invited_by,
                        created_at = excluded.created_at, expires_at = excluded.expires_at, token_hash = excluded.token_hash
                    WHERE org_invitations.role <> 'owner' OR @managesOwners OR org_invitations.expires_at <= @now
                RETURNING *)
            SELECT {Columns} FROM i JOIN organizations o ON o.id = i.org_id
            """, conn, tx);
        cmd.Parameters.AddWithValue("o", orgId);
        cmd.Parameters.AddWithValue("email", email);
        cmd.Parameters.AddWithValue("e", emailNormalized);
        cmd.Parameters.AddWithValue("r", role);
        cmd.Parameters.AddWithValue("a", actorId);
        cmd.Parameters.AddWithValue("now", now);
        cmd.Parameters.AddWithValue("until", now + Lifetime);
        cmd.Parameters.AddWithValue("managesOwners", managesOwners);
        cmd.Parameters.AddWithValue("token", tokenHash);
        InvitationDto invitation;
        await using (var r = await cmd.ExecuteReaderAsync())
        {
            // The upsert's only refusal: a pending owner invitation, and an actor who cannot manage owners.
            if (!await r.ReadAsync()) return (InvitationCreate.OwnerInvitationPending, null);
            invitation = Read(r);
        }
        // An accept of this address's invitation that committed while the upsert waited for its row (it deletes the row
        // and adds the membership) is visible now, and the check above predates it: no invitation for a member.
        if (await IsMemberAsync(conn, tx, orgId, emailNormalized))
        {
            await using var undo = new NpgsqlCommand("DELETE FROM org_invitations WHERE id = @id", conn, tx);
            undo.Parameters.AddWithValue("id", invitation.Id);
            await undo.ExecuteNonQueryAsync();
            return (InvitationCreate.AlreadyMember, null);
        }
        return (InvitationCreate.Invited, invitation);
    }

    private static async Task<bool> IsMemberAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid orgId, string emailNormalized)
    {
        await using var member = new NpgsqlCommand("""
            SELECT 1 FROM org_members m JOIN users u ON u.id = m.user_id WHERE m.org_id = @o AND u.email_normalized = @e
            """, conn, tx);
        member.Parameters.AddWithValue("o", orgId);
        member.Parameters.AddWithValue("e", emailNormalized);
        return await member.ExecuteScalarAsync() is not null;
    }

    /// <summary>The organisation's pending (unexpired) invitations, oldest first (a renewal counts as new), a page at a time.</summary>
    public Task<Page<InvitationDto>> ListForOrgAsync(Guid orgId, DateTime now, string? cursor, int limit) =>
        ListPendingAsync("FROM org_invitations i JOIN organizations o ON o.id = i.org_id WHERE i.org_id = @k", orgId, now, cursor, limit);

    /// <summary>
    /// The pending invitations addressed to <paramref name="userId"/>'s email that can still be accepted, oldest first, a
    /// page at a time: one whose sender has since left, lost members:write, or (for an owner invitation) lost the right to
    /// manage owners is not listed (accepting it would be refused; the organisation's own listing still shows it, to withdraw).
    /// </summary>
    public Task<Page<InvitationDto>> ListForUserAsync(Guid userId, DateTime now, string? cursor, int limit) =>
        ListPendingAsync("""
            FROM users u JOIN org_invitations i ON i.email_normalized = u.email_normalized
            JOIN organizations o ON o.id = i.org_id
            JOIN org_members inviter ON inviter.org_id = i.org_id AND inviter.user_id = i.invited_by
            WHERE u.id = @k AND inviter.role = ANY(@inviters) AND (i.role <> 'owner' OR inviter.role = ANY(@ownerInviters))
            """, userId, now, cursor, limit, cmd =>
        {
            cmd.Parameters.AddWithValue("inviters", InviterRoles);
            cmd.Parameters.AddWithValue("ownerInviters", OwnerInviterRoles);
        });

    private static readonly string[] InviterRoles = Permissions.RolesAllowing(Permissions.MembersWrite);
    private static readonly string[] OwnerInviterRoles = Permissions.RolesAllowing(Permissions.MembersManageOwners);

    /// <summary>
    /// One page of unexpired invitations, ordered by (created_at, id) and continued from the cursor's pair (keyset
    /// pagination: a page never repeats or skips a row that stays put, whatever is added or removed meanwhile).
    /// </summary>
    private async Task<Page<InvitationDto>> ListPendingAsync(string fromWhere, Guid key, DateTime now, string? cursor, int limit,
        Action<NpgsqlCommand>? moreParameters = null)
    {
        bool hasCursor = Cursor.TryDecode(cursor, out var afterAt, out var afterKey) && Guid.TryParse(afterKey, out _);
        await using var cmd = db.CreateCommand($"""
            SELECT {Columns} {fromWhere}
              AND i.expires_at > @now AND (NOT @hasCursor OR (i.created_at, i.id) > (@afterAt, @afterId))
            ORDER BY i.created_at, i.id LIMIT @n
            """);
        cmd.Parameters.AddWithValue("k", key);
        cmd.Parameters.AddWithValue("now", now);
        cmd.Parameters.AddWithValue("hasCursor", hasCursor);
        cmd.Parameters.AddWithValue("afterAt", hasCursor ? afterAt : now);
        cmd.Parameters.AddWithValue("afterId", hasCursor ? Guid.Parse(afterKey) : Guid.Empty);
        cmd.Parameters.AddWithValue("n", limit + 1);
        moreParameters?.Invoke(cmd);
        var items = new List<InvitationDto>(limit);
        string? next = null;
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync())
        {
            if (items.Count == limit) { next = Cursor.Encode(items[^1].CreatedAt, items[^1].Id.ToString()); break; }
            items.Add(Read(r));
        }
        return new Page<InvitationDto>(items, next);
    }

    /// <summary>
    /// Answers an invitation addressed to <paramref name="userId"/>'s email, in the caller's transaction. Null when there is
    /// no such pending invitation for this account (another account's invitation looks the same: it does not exist for this
    /// one). Either answer needs <paramref name="tokenHash"/> to be the hash of the invitation's accept token (its link:
    /// the address's owner got it, whoever registered the address did not, and must neither join nor throw the invitation
    /// away). Declining then uses it up. Accepting also needs the member who sent it to still be allowed to invite for its
    /// role (read under a share lock, as inviting reads it); then it adds the membership with the invitation's role and
    /// uses the invitation up. The invitation row is locked first, so two answers, or an answer and a renewal, take turns.
    /// </summary>
    public async Task<InvitationAnswer?> AnswerAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid invitationId, Guid userId,
        bool accept, string tokenHash, DateTime now)
    {
        InvitationDto invitation;
        string? storedHash;
        await using (var cmd = new NpgsqlCommand($"""
            SELECT {Columns}, i.token_hash FROM org_invitations i
            JOIN users u ON u.email_normalized = i.email_normalized
            JOIN organizations o ON o.id = i.org_id
            WHERE i.id = @id AND u.id = @u AND i.expires_at > @now
            FOR UPDATE OF i
            """, conn, tx))
        {
            cmd.Parameters.AddWithValue("id", invitationId);
            cmd.Parameters.AddWithValue("u", userId);
            cmd.Parameters.AddWithValue("now", now);
            await using var r = await cmd.ExecuteReaderAsync();
            if (!await r.ReadAsync()) return null;
            invitation = Read(r);
            storedHash = r.IsDBNull(8) ? null : r.GetString(8);
        }
        if (!SameHash(storedHash, tokenHash)) return new InvitationAnswer(invitation, InvitationAnswerOutcome.WrongToken);
        if (accept && !await InviterMayStillInviteAsync(conn, tx, invitation))
            return new InvitationAnswer(invitation, InvitationAnswerOutcome.InviterLostAuthority);
        await using (var delete = new NpgsqlCommand("DELETE FROM org_invitations WHERE id = @id", conn, tx))
        {
            delete.Parameters.AddWithValue("id", invitationId);
            await delete.ExecuteNonQueryAsync();
        }
        if (!accept) return new InvitationAnswer(invitation, InvitationAnswerOutcome.Declined);
        await using var add = new NpgsqlCommand("""
            INSERT INTO org_members (org_id, user_id, role, created_at) VALUES (@o, @u, @r, @now)
            ON CONFLICT (org_id, user_id) DO NOTHING
            """, conn, tx);
        add.Parameters.AddWithValue("o", invitation.OrgId);
        add.Parameters.AddWithValue("u", userId);
        add.Parameters.AddWithValue("r", invitation.Role);
        add.Parameters.AddWithValue("now", now);
        return new InvitationAnswer(invitation,
            await add.ExecuteNonQueryAsync() == 1 ? InvitationAnswerOutcome.Joined : InvitationAnswerOutcome.AlreadyMember);
    }

    /// <summary>True when the invitation's sender is still a member whose role may invite for the invitation's role.</summary>
    private static async Task<bool> InviterMayStillInviteAsync(NpgsqlConnection conn, NpgsqlTransaction tx, InvitationDto invitation)
    {
        if (invitation.InvitedBy is not { } inviter) return false;   // the inviting account was deleted
        string? role = await ActorRoleAsync(conn, tx, invitation.OrgId, inviter);
        return Permissions.Allows(role, Permissions.MembersWrite)
            && (invitation.Role != Permissions.Roles.Owner || Permissions.Allows(role, Permissions.MembersManageOwners));
    }

    /// <summary>
    /// Deletes up to <paramref name="batchSize"/> expired invitations (of any organisation); returns how many. The outer
    /// expiry check is the one that counts: a renewal keeps the invitation's id, and one that commits after the
    /// sub-select picked the row must find it still there (PostgreSQL re-checks the outer condition on the new version).
    /// </summary>
    public async Task<int> DeleteExpiredBatchAsync(DateTime now, int batchSize)
    {
        await using var cmd = db.CreateCommand("""
            DELETE FROM org_invitations
            WHERE id IN (SELECT id FROM org_invitations WHERE expires_at <= @now LIMIT @n) AND expires_at <= @now
            """);
        cmd.Parameters.AddWithValue("now", now);
        cmd.Parameters.AddWithValue("n", batchSize);
        return await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>Constant-time comparison of two lowercase hex SHA-256 hashes; false when either is missing.</summary>
    private static bool SameHash(string? stored, string given) =>
        stored is not null && stored.Length == given.Length
        && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(stored), Encoding.ASCII.GetBytes(given));

    /// <summary>
    /// Withdraws a pending invitation of the organisation, in the caller's transaction, if the actor may: members:write,
    /// and for an owner invitation the right to manage owners.
    /// </summary>
    public async Task<InvitationRevoke> RevokeAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid orgId, Guid actorId, Guid invitationId)
    {
        string? actorRole = await ActorRoleAsync(conn, tx, orgId, actorId);
        if (actorRole is null) return InvitationRevoke.NotMember;
        if (!Permissions.Allows(actorRole, Permissions.MembersWrite)) return InvitationRevoke.Forbidden;
        await using var cmd = new NpgsqlCommand("""
            DELETE FROM org_invitations WHERE id = @id AND org_id = @o AND (role <> 'owner' OR @managesOwners) RETURNING role
            """, conn, tx);
        cmd.Parameters.AddWithValue("id", invitationId);
        cmd.Parameters.AddWithValue("o", orgId);
        cmd.Parameters.AddWithValue("managesOwners", Permissions.Allows(actorRole, Permissions.MembersManageOwners));
        if (await cmd.ExecuteScalarAsync() is not null) return InvitationRevoke.Revoked;
        // Not deleted: absent, or an owner invitation this actor may not withdraw.
        await using var exists = new NpgsqlCommand("SELECT 1 FROM org_invitations WHERE id = @id AND org_id = @o", conn, tx);
        exists.Parameters.AddWithValue("id", invitationId);
        exists.Parameters.AddWithValue("o", orgId);
        return await exists.ExecuteScalarAsync() is null ? InvitationRevoke.NotFound : InvitationRevoke.Forbidden;
    }

    /// <summary>The actor's role, share-locked until the caller's transaction ends: a concurrent removal or demotion waits.</summary>
    private static async Task<string?> ActorRoleAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid orgId, Guid actorId)
    {
        await using var check = new NpgsqlCommand("SELECT role FROM org_members WHERE org_id = @o AND user_id = @a FOR SHARE", conn, tx);
        check.Parameters.AddWithValue("o", orgId);
        check.Parameters.AddWithValue("a", actorId);
        return await check.ExecuteScalarAsync() as string;
    }

    private static InvitationDto Read(NpgsqlDataReader r) => new(r.GetGuid(0), r.GetGuid(1), r.GetString(2), r.GetString(3), r.GetString(4),
        r.IsDBNull(5) ? null : r.GetGuid(5), r.GetDateTime(6), r.GetDateTime(7));
}
