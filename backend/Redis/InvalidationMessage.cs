using System.Text.Json.Serialization;

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

    public static InvalidationMessage Session(string hash, Guid userId, string reason, TimeProvider time) =>
        new("session", reason, time.GetUtcNow().ToUnixTimeMilliseconds(), SessionHash: hash, UserId: userId);

    public static InvalidationMessage User(Guid userId, string reason, TimeProvider time) =>
        new("user", reason, time.GetUtcNow().ToUnixTimeMilliseconds(), UserId: userId);

    public static InvalidationMessage UserData(Guid userId, string reason, TimeProvider time) =>
        new("user-data", reason, time.GetUtcNow().ToUnixTimeMilliseconds(), UserId: userId);

    public static InvalidationMessage Org(Guid orgId, string reason, TimeProvider time) =>
        new("org", reason, time.GetUtcNow().ToUnixTimeMilliseconds(), OrgId: orgId);
}
