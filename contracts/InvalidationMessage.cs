using System.Text.Json;

namespace Gateway.Contracts;

/// <summary>
/// One message of channel <see cref="SessionRedisContract.InvalidationChannel"/> (docs/contracts.md, "Invalidation
/// channel"): the backend writes it with <see cref="Serialize"/>, the gateway reads it with <see cref="TryParse"/>.
/// </summary>
/// <param name="Kind"><see cref="KindSession"/>, <see cref="KindUser"/>, <see cref="KindUserData"/>, <see cref="KindOrg"/>;
/// consumers ignore other kinds (forward compatibility).</param>
/// <param name="Reason">Why, for logs and metrics only: consumers must not depend on it for correctness.</param>
/// <param name="At">Publish time, Unix milliseconds (0 when absent); gateways report now - at as propagation delay.</param>
/// <param name="SessionHash">Token hash (lowercase hex) for <see cref="KindSession"/>.</param>
/// <param name="UserId">For <see cref="KindSession"/>, <see cref="KindUser"/>, <see cref="KindUserData"/>.</param>
/// <param name="OrgId">For <see cref="KindOrg"/>.</param>
public sealed record InvalidationMessage(string Kind, string? Reason, long At,
    string? SessionHash = null, string? UserId = null, string? OrgId = null)
{
    public const string KindSession = "session";
    public const string KindUser = "user";
    public const string KindUserData = "user-data";
    public const string KindOrg = "org";

    /// <summary>The message format version, <c>"v":1</c>.</summary>
    public const int FormatVersion = 1;

    /// <summary>The JSON of this message; absent ids are left out.</summary>
    public string Serialize()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(192);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("v", FormatVersion);
            json.WriteString("kind", Kind);
            if (SessionHash is not null) json.WriteString("sessionHash", SessionHash);
            if (UserId is not null) json.WriteString("userId", UserId);
            if (OrgId is not null) json.WriteString("orgId", OrgId);
            if (Reason is not null) json.WriteString("reason", Reason);
            json.WriteNumber("at", At);
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>
    /// Parses one message; null when it is not a JSON object with a string <c>kind</c>. Members of an unexpected type read
    /// as absent, so one odd member costs that member, not the whole eviction.
    /// </summary>
    public static InvalidationMessage? TryParse(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("kind", out var kind) || kind.ValueKind != JsonValueKind.String) return null;
            long at = root.TryGetProperty("at", out var a) && a.ValueKind == JsonValueKind.Number && a.TryGetInt64(out long v) ? v : 0;
            return new InvalidationMessage(kind.GetString()!, String(root, "reason"), at, String(root, "sessionHash"), String(root, "userId"), String(root, "orgId"));
        }
        catch (JsonException) { return null; }
    }

    private static string? String(JsonElement root, string name) =>
        root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
