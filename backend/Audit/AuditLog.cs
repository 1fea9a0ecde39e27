using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace Backend.Audit;

/// <summary>Appends audit events. Pass a connection/transaction to record the event atomically with the change.</summary>
internal sealed class AuditLog(NpgsqlDataSource db, TimeProvider time)
{
    // One column list and one set of placeholders for both forms of the insert; AddInsertParameters binds them.
    private const string Columns = "INSERT INTO audit_events (user_id, org_id, event_type, at, ip, details)";
    private const string Values = "@audit_u, @audit_o, @audit_t, @audit_at, @audit_ip, @audit_d";
    private const string Insert = $"{Columns} VALUES ({Values})";

    /// <summary>
    /// Runs <paramref name="change"/> and records the event <paramref name="entry"/> makes of its result in one
    /// transaction: no change without its record, and one commit (one WAL flush) for both. <paramref name="entry"/>
    /// returns null when the result says nothing changed (nothing is recorded then).
    /// </summary>
    public async Task<T> ChangeAndRecordAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> change, Func<T, AuditEntry?> entry)
    {
        await using var conn = await db.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        var result = await change(conn, tx);
        if (entry(result) is { } e) await RecordAsync(e.EventType, e.UserId, e.OrgId, e.Ip, e.Details, conn, tx);
        await tx.CommitAsync();
        return result;
    }

    /// <summary>
    /// An <c>INSERT</c> of one audit event per row of <paramref name="source"/> (a CTE name), for a data-modifying CTE:
    /// a change and its record in one statement, so one round trip and no explicit transaction. No row in the source, no
    /// record. Bind its values with <see cref="AddInsertParameters"/>.
    /// </summary>
    internal static string InsertFrom(string source) => $"{Columns} SELECT {Values} FROM {source}";

    /// <summary>The values of the insert's placeholders (both forms); <paramref name="at"/> is the event's time.</summary>
    internal static void AddInsertParameters(NpgsqlCommand cmd, AuditEntry e, DateTime at)
    {
        cmd.Parameters.Add(new NpgsqlParameter<Guid?>("audit_u", e.UserId) { NpgsqlDbType = NpgsqlDbType.Uuid });
        cmd.Parameters.Add(new NpgsqlParameter<Guid?>("audit_o", e.OrgId) { NpgsqlDbType = NpgsqlDbType.Uuid });
        cmd.Parameters.AddWithValue("audit_t", e.EventType);
        cmd.Parameters.AddWithValue("audit_at", at);
        cmd.Parameters.Add(new NpgsqlParameter<string?>("audit_ip", e.Ip) { NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new NpgsqlParameter("audit_d", NpgsqlDbType.Jsonb) { Value = JsonSerializer.Serialize(e.Details ?? new { }, JsonSerializerOptions.Web) });
    }

    public async Task RecordAsync(string eventType, Guid? userId, Guid? orgId, string? ip, object? details = null,
        NpgsqlConnection? conn = null, NpgsqlTransaction? tx = null)
    {
        await using var cmd = conn is null ? db.CreateCommand(Insert) : new NpgsqlCommand(Insert, conn, tx);
        AddInsertParameters(cmd, new AuditEntry(eventType, userId, orgId, ip, details), time.GetUtcNow().UtcDateTime);
        await cmd.ExecuteNonQueryAsync();
    }
}

/// <summary>One audit event, for <see cref="AuditLog.ChangeAndRecordAsync"/>.</summary>
internal readonly record struct AuditEntry(string EventType, Guid? UserId, Guid? OrgId, string? Ip, object? Details = null);
