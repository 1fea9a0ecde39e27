namespace Backend.Organizations;

internal sealed record OrgDto(Guid Id, string Name, DateTime CreatedAt, string Role);
internal sealed record MemberDto(Guid UserId, string Email, string Name, string Role, DateTime JoinedAt);
internal sealed record CreateOrgRequest(string? Name);
internal sealed record AddMemberRequest(string? Email, string? Role);
internal sealed record ChangeRoleRequest(string? Role);

/// <summary>Outcome of a membership change decided under row locks. Unchanged: the member already has that role.</summary>
internal enum MembershipChange { Done, Unchanged, NotMember, Forbidden, LastOwner }

/// <summary>A membership change's outcome and the target's role before it (null when not a member).</summary>
internal readonly record struct MembershipOutcome(MembershipChange Change, string? PreviousRole);

/// <summary>Outcome of adding a member, decided under a share lock on the actor's membership.</summary>
internal enum MemberAdd { Added, AlreadyMember, Forbidden }
