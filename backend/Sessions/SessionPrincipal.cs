namespace Backend.Sessions;

/// <summary>The session principal of docs/contracts.md, as stored in Redis and returned by introspection.</summary>
/// <param name="Version">
/// The user's principal version when this principal was read (raised by every membership change). Redis refuses a
/// principal below its session's fence, so a writer that read the old memberships cannot bring them back.
/// </param>
public sealed record SessionPrincipal(
    Guid UserId, Guid SessionId, string Email, IReadOnlyList<OrgRoleRef> Orgs, DateTime ExpiresAt, DateTime IdleExpiresAt, long Version)
{
    /// <summary>When the principal dies: min(expiresAt, idleExpiresAt). Not part of the contract's JSON.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public DateTime DiesAt => ExpiresAt < IdleExpiresAt ? ExpiresAt : IdleExpiresAt;
}

/// <summary>One organisation membership in a principal.</summary>
public sealed record OrgRoleRef(Guid Id, string Role);

/// <summary>A principal together with the token hash it is stored under.</summary>
internal readonly record struct HashedPrincipal(string TokenHash, SessionPrincipal Principal);
