using Npgsql;
using NpgsqlTypes;

namespace Backend.Invalidation;

/// <summary>
/// The <c>invalidation_outbox</c> table: entries are written in the transaction of the change they describe (see
/// <c>SessionStore</c>'s revocations and the <c>org_members_changed</c> trigger) and deleted once Redis acknowledged them.
/// </summary>
internal sealed class InvalidationOutbox(NpgsqlDataSource db)
{
    /// <summary>The entry's columns in <see cref="ReadEntry"/>'s order (for <c>RETURNING</c> clauses of the writers too).</summary>
    internal const string Columns = "id, kind, reason, user_id, org_id, token_hashes, fence, fence_until";

    /// <summary>Reads the <see cref="Columns"/> starting at ordinal <paramref name="at"/>.</summary>
    internal static OutboxEntry ReadEntry(NpgsqlDataReader r, int at) => new(
        r.GetInt64(at), r.GetString(at + 1), r.GetString(at + 2), r.IsDBNull(at + 3) ? null : r.GetGuid(at + 3),
        r.IsDBNull(at + 4) ? null : r.GetGuid(at + 4), r.GetFieldValue<string[]>(at + 5),
        r.IsDBNull(at + 6) ? null : r.GetInt64(at + 6), r.IsDBNull(at + 7) ? null : r.GetDateTime(at + 7));

    /// <summary>Deletes delivered entries (see <see cref="RecordOutcomeAsync"/>).</summary>
    public async Task DeleteAsync(long[] ids)
    {
        await using var conn = await db.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        await RecordOutcomeAsync(conn, tx, ids, [], CancellationToken.None);
        await tx.CommitAsync();
    }

    /// <summary>
    /// Deletes the delivered entries and counts an attempt on the failed ones. The transaction's commit does not wait for
    /// its WAL flush: losing it in a crash only means delivering these entries again, which is idempotent.
    /// </summary>
    private static async Task RecordOutcomeAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long[] delivered, long[] failed, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            SET LOCAL synchronous_commit = off;
            DELETE FROM invalidation_outbox WHERE id = ANY(@done);
            UPDATE invalidation_outbox SET attempts = attempts + 1 WHERE id = ANY(@failed);
            """, conn, tx);
        cmd.Parameters.AddWithValue("done", delivered);
        cmd.Parameters.AddWithValue("failed", failed);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Ids of the undelivered entries about this user or organisation (either may be null).</summary>
    public async Task<long[]> PendingAsync(Guid? userId, Guid? orgId)
    {
        await using var cmd = db.CreateCommand("SELECT id FROM invalidation_outbox WHERE user_id = @u OR org_id = @o ORDER BY id");
        cmd.Parameters.Add(new NpgsqlParameter<Guid?>("u", userId) { NpgsqlDbType = NpgsqlDbType.Uuid });
        cmd.Parameters.Add(new NpgsqlParameter<Guid?>("o", orgId) { NpgsqlDbType = NpgsqlDbType.Uuid });
        return await ReadIdsAsync(cmd);
    }

    /// <summary>Which of these ids are still undelivered.</summary>
    public async Task<long[]> StillPendingAsync(long[] ids)
    {
        await using var cmd = db.CreateCommand("SELECT id FROM invalidation_outbox WHERE id = ANY(@ids)");
        cmd.Parameters.AddWithValue("ids", ids);
        return await ReadIdsAsync(cmd);
    }

    /// <summary>Number of undelivered entries (for /metrics and logs).</summary>
    public async Task<long> CountAsync()
    {
        await using var cmd = db.CreateCommand("SELECT count(*) FROM invalidation_outbox");
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    /// <summary>
    /// Age in seconds of the oldest undelivered entry by the database clock (which stamped it), or 0 when none is pending.
    /// The primary-key index finds it: ids rise with <c>created_at</c>.
    /// </summary>
    public async Task<double> OldestPendingAgeSecondsAsync()
    {
        await using var cmd = db.CreateCommand(
            "SELECT EXTRACT(EPOCH FROM now() - created_at)::float8 FROM invalidation_outbox ORDER BY id LIMIT 1");
        return await cmd.ExecuteScalarAsync() is double age ? Math.Max(0, age) : 0;
    }

    /// <summary>
    /// Locks up to <paramref name="limit"/> undelivered entries (only <paramref name="ids"/> when given), skipping those
    /// another deliverer holds, and hands them to <paramref name="deliver"/>; deletes the ones it delivered and counts an
    /// attempt on the others, in the same transaction. Returns how many were delivered.
    /// </summary>
    /// <param name="olderThan">
    /// Background passes take only entries at least this old (by the database clock), so they never race the request
    /// that is delivering its own entry inline: a row locked by the other side would cost that request a retry pause.
    /// </param>
    public async Task<int> DeliverAsync(long[]? ids, int limit, Func<OutboxEntry, Task<bool>> deliver, CancellationToken ct, TimeSpan? olderThan = null)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var entries = new List<OutboxEntry>();
        await using (var select = new NpgsqlCommand($"""
            SELECT {Columns} FROM invalidation_outbox
            WHERE (@all OR id = ANY(@ids)) AND created_at <= now() - @age ORDER BY id LIMIT @n FOR UPDATE SKIP LOCKED
            """, conn, tx))
        {
            select.Parameters.AddWithValue("age", olderThan ?? TimeSpan.Zero);
            select.Parameters.AddWithValue("all", ids is null);
            select.Parameters.AddWithValue("ids", ids ?? []);
            select.Parameters.AddWithValue("n", limit);
            await using var r = await select.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct)) entries.Add(ReadEntry(r, 0));
        }
        if (entries.Count == 0) return 0;

        var delivered = new List<long>(entries.Count);
        var failed = new List<long>();
        foreach (var entry in entries) (await deliver(entry) ? delivered : failed).Add(entry.Id);

        await RecordOutcomeAsync(conn, tx, [.. delivered], [.. failed], ct);
        await tx.CommitAsync(ct);
        return delivered.Count;
    }

    private static async Task<long[]> ReadIdsAsync(NpgsqlCommand cmd)
    {
        var ids = new List<long>();
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync()) ids.Add(r.GetInt64(0));
        return ids.ToArray();
    }
}
