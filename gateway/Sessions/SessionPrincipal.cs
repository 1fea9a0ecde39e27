namespace Gateway.Sessions;

/// <summary>A validated session's principal, in the JSON shape of docs/contracts.md.</summary>
/// <param name="Version">The user's principal version it was read at; Redis refuses it below the session's fence.</param>
public sealed record SessionPrincipal(
    string UserId, string SessionId, string Email, OrgMembership[] Orgs, DateTimeOffset ExpiresAt, DateTimeOffset IdleExpiresAt, long Version = 0)
{
    /// <summary>The moment this principal must stop being accepted from any cache.</summary>
    public DateTimeOffset ValidUntil => ExpiresAt < IdleExpiresAt ? ExpiresAt : IdleExpiresAt;

    /// <summary>The caller's role in <paramref name="orgId"/>, or null when not a member.</summary>
    public string? RoleIn(string orgId)
    {
        foreach (var m in Orgs) if (string.Equals(m.Id, orgId, StringComparison.OrdinalIgnoreCase)) return m.Role;
        return null;
    }
}

public sealed record OrgMembership(string Id, string Role);
