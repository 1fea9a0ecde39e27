namespace Backend.Organizations;

public sealed record OrgDto(Guid Id, string Name, DateTime CreatedAt, string Role);
public sealed record MemberDto(Guid UserId, string Email, string Name, string Role, DateTime JoinedAt);
public sealed record CreateOrgRequest(string? Name);
public sealed record AddMemberRequest(string? Email, string? Role);
public sealed record ChangeRoleRequest(string? Role);

/// <summary>Outcome of a membership change decided under row locks.</summary>
internal enum MembershipChange { Done, NotMember, Forbidden, LastOwner }
