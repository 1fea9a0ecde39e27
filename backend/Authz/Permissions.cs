namespace Backend.Authz;

/// <summary>
/// The permission map: one table, owner &gt; admin &gt; member. Mirrored in docs/backend.md.
/// Rules that depend on the target (admins cannot touch owners; the last owner stays) live in the organisation handlers.
/// </summary>
internal static class Permissions
{
    public const string OrgRead = "org:read";
    public const string MembersRead = "members:read";
    public const string MembersWrite = "members:write";
    public const string OrgUpdate = "org:update";
    public const string AuditRead = "audit:read";
    public const string OrgDelete = "org:delete";
    public const string MembersManageOwners = "members:manage-owners";

    public static class Roles
    {
        public const string Owner = "owner";
        public const string Admin = "admin";
        public const string Member = "member";
    }

    private static readonly Dictionary<string, string[]> Map = new(StringComparer.Ordinal)
    {
        [Roles.Member] = [OrgRead, MembersRead],
        [Roles.Admin] = [OrgRead, MembersRead, MembersWrite, OrgUpdate, AuditRead],
        [Roles.Owner] = [OrgRead, MembersRead, MembersWrite, OrgUpdate, AuditRead, OrgDelete, MembersManageOwners],
    };

    public static IReadOnlyCollection<string> All { get; } = [OrgRead, MembersRead, MembersWrite, OrgUpdate, AuditRead, OrgDelete, MembersManageOwners];

    public static bool IsRole(string? role) => role is not null && Map.ContainsKey(role);

    public static bool Allows(string? role, string permission) =>
        role is not null && Map.TryGetValue(role, out var granted) && Array.IndexOf(granted, permission) >= 0;

    /// <summary>The roles granted <paramref name="permission"/>, for queries that filter on it in SQL.</summary>
    public static string[] RolesAllowing(string permission) => [.. Map.Where(r => Array.IndexOf(r.Value, permission) >= 0).Select(r => r.Key)];

    /// <summary>owner = 3, admin = 2, member = 1, none = 0.</summary>
    public static int Rank(string? role) => role switch { Roles.Owner => 3, Roles.Admin => 2, Roles.Member => 1, _ => 0 };
}
