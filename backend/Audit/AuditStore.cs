using System.Text.Json;
using Backend.Data;
using Backend.Infrastructure;

namespace Backend.Audit;

/// <summary>One audit event as returned by <c>GET /audit</c>.</summary>
internal sealed record AuditEventDto(long Id, string EventType, DateTime At, Guid? UserId, Guid? OrgId, string? Ip, JsonElement Details);

/// <summary>
/// Keyset-paginated reads of the audit trail, newest first. A report, so it reads from a standby when there is one:
/// an event recorded a moment ago may appear a moment later.
/// </summary>
internal sealed class AuditStore(ReadDataSource db)
{
    public Task<Page<AuditEventDto>> ByUserAsync(Guid userId, string? cursor, int limit) => ListAsync("user_id", userId, cursor, limit);
    public Task<Page<AuditEventDto>> ByOrgAsync(Guid orgId, string? cursor, int limit) => ListAsync("org_id", orgId, cursor, limit);

    private async Task<Page<AuditEventDto>> ListAsync(string column, Guid key, string? cursor, int limit)
    {
        bool hasCursor = Cursor.TryDecode(cursor, out var afterAt, out var afterKey) && long.TryParse(afterKey, out _);
        // column is one of two constants above, never user input.
        await using var cmd = db.CreateCommand($"""
            SELECT id, event_type, at, user_id, org_id, ip, details::text FROM audit_events
            WHERE {column} = @k AND (NOT @hasCursor OR (at, id) < (@afterAt, @afterId))
            ORDER BY at DESC, id DESC LIMIT @n
            """);
        cmd.Parameters.AddWithValue("k", key);
        cmd.Parameters.AddWithValue("hasCursor", hasCursor);
        cmd.Parameters.AddWithValue("afterAt", hasCursor ? afterAt : DateTime.UnixEpoch);
        cmd.Parameters.AddWithValue("afterId", hasCursor ? long.Parse(afterKey, System.Globalization.CultureInfo.InvariantCulture) : 0L);
        cmd.Parameters.AddWithValue("n", limit + 1);
        var items = new List<AuditEventDto>(limit);
        string? next = null;
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync())
        {
            if (items.Count == limit) { next = Cursor.Encode(items[^1].At, items[^1].Id.ToString(System.Globalization.CultureInfo.InvariantCulture)); break; }
            using var details = JsonDocument.Parse(r.GetString(6));
            items.Add(new AuditEventDto(r.GetInt64(0), r.GetString(1), r.GetDateTime(2),
                r.IsDBNull(3) ? null : r.GetGuid(3), r.IsDBNull(4) ? null : r.GetGuid(4),
                r.IsDBNull(5) ? null : r.GetString(5), details.RootElement.Clone()));
        }
        return new Page<AuditEventDto>(items, next);
    }
}
