namespace Backend.Organizations;

internal sealed record OrgDto(Guid Id, string Name, DateTime CreatedAt, string Role);
internal sealed record MemberDto(Guid UserId, string Email, string Name, string Role, DateTime JoinedAt);
internal sealed record CreateOrgRequest(string? Name);
internal sealed record InviteRequest(string? Email, string? Role);

/// <summary>A pending invitation. <see cref="InvitedBy"/> is null once the inviting account was deleted.</summary>
internal sealed record InvitationDto(Guid Id, Guid OrgId, string OrgName, string Email, string Role, Guid? InvitedBy, DateTime CreatedAt,
    DateTime ExpiresAt);

internal enum InvitationCreate { Invited, AlreadyMember, Forbidden }

internal enum InvitationRevoke { Revoked, NotFound, NotMember, Forbidden }

/// <summary>An answered invitation; <see cref="Joined"/> is false when declined, or accepted by a member already.</summary>
internal sealed record InvitationAnswer(InvitationDto Invitation, bool Joined);
internal sealed record ChangeRoleRequest(string? Role);

/// <summary>Outcome of a membership change decided under row locks. Unchanged: the member already has that role.</summary>
internal enum MembershipChange { Done, Unchanged, NotMember, Forbidden, LastOwner }

/// <summary>A membership change's outcome and the target's role before it (null when not a member).</summary>
internal readonly record struct MembershipOutcome(MembershipChange Change, string? PreviousRole);

