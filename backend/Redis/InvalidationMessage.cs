using System.Text.Json.Serialization;
using Backend.Invalidation;

namespace Backend.Redis;

/// <summary>A message on <c>gw:v1:invalidate</c> (docs/contracts.md). Null fields are omitted.</summary>
internal sealed record InvalidationMessage(
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("reason")] string Reason,
    [property: JsonPropertyName("at")] long At,
    [property: JsonPropertyName("sessionHash"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? SessionHash = null,
    [property: JsonPropertyName("userId"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Guid? UserId = null,
    [property: JsonPropertyName("orgId"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Guid? OrgId = null)
{
    [JsonPropertyName("v")]
    [JsonPropertyOrder(-1)]
    public int Version => 1;

    /// <summary>The message of an outbox entry; <c>at</c> is the time of publishing, which gateways report as propagation delay.</summary>
    public static InvalidationMessage From(OutboxEntry entry, TimeProvider time) => new(
        entry.Kind, entry.Reason, time.GetUtcNow().ToUnixTimeMilliseconds(),
        SessionHash: entry.Kind == "session" && entry.TokenHashes.Length > 0 ? entry.TokenHashes[0] : null,
        UserId: entry.Kind == "org" ? null : entry.UserId,
        OrgId: entry.Kind == "org" ? entry.OrgId : null);
}
