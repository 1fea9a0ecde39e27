using System.Text.Json.Serialization;

namespace Gateway.Contracts;

/// <summary>
/// A validated session's principal (docs/contracts.md, "Session principal"): what the backend's introspection returns
/// and writes to Redis, and what the gateway reads from both. Ids stay strings: the gateway copies them into headers
/// and cache keys on every request and never needs them as Guids.
/// </summary>
/// <param name="ExpiresAt">Absolute expiry.</param>
/// <param name="IdleExpiresAt">When the session dies without activity; never after <paramref name="ExpiresAt"/>.</param>
/// <param name="Version">The user's principal version it was read at (raised by every membership change); Redis refuses
/// it below the session's fence. A missing <c>version</c> reads as 0.</param>
public sealed record SessionPrincipal(
    string UserId, string SessionId, string Email, OrgMembership[] Orgs,
    [property: JsonConverter(typeof(UtcTimestampConverter))] DateTimeOffset ExpiresAt,
    [property: JsonConverter(typeof(UtcTimestampConverter))] DateTimeOffset IdleExpiresAt,
    long Version = 0)
{
    /// <summary>min(expiresAt, idleExpiresAt): the moment no cache may accept this principal any more. Not in the JSON.</summary>
    [JsonIgnore]
    public DateTimeOffset ValidUntil => ExpiresAt < IdleExpiresAt ? ExpiresAt : IdleExpiresAt;
}

/// <summary>One organisation membership in a principal: <c>{"id":"&lt;uuid&gt;","role":"owner|admin|member"}</c>.</summary>
public sealed record OrgMembership(string Id, string Role);
