namespace Backend.Organizations;

internal sealed record OrgDto(Guid Id, string Name, DateTime CreatedAt, string Role);
internal sealed record MemberDto(Guid UserId, string Email, string Name, string Role, DateTime JoinedAt);
internal sealed record CreateOrgRequest(string? Name);
internal sealed record InviteRequest(string? Email, string? Role);

/// <summary>A pending invitation. <see cref="InvitedBy"/> is null once the inviting account was deleted.</summary>
internal sealed record InvitationDto(Guid Id, Guid OrgId, string OrgName, string Email, string Role, Guid? InvitedBy, DateTime CreatedAt,
    DateTime ExpiresAt);

/// <summary>
/// The answer to <c>POST /orgs/{id}/invitations</c>: the invitation and, this once, the secret that accepts it. The inviter
/// sends it to the invited address (the link); only its hash is stored, and renewing the invitation issues a new one.
/// </summary>
internal sealed record CreatedInvitationDto(Guid Id, Guid OrgId, string OrgName, string Email, string Role, Guid? InvitedBy,
    DateTime CreatedAt, DateTime ExpiresAt, string AcceptToken)
{
    public CreatedInvitationDto(InvitationDto i, string acceptToken)
        : this(i.Id, i.OrgId, i.OrgName, i.Email, i.Role, i.InvitedBy, i.CreatedAt, i.ExpiresAt, acceptToken) { }
}

/// <summary>The body of <c>POST /invitations/{id}/accept</c> and <c>/decline</c>: the accept token the invitation's link carries.</summary>
internal sealed record AnswerInvitationRequest(string? Token);

/// <summary>How inviting an address ended. <see cref="OwnerInvitationPending"/>: the address has an unexpired owner
/// invitation, which only an owner may renew.</summary>
internal enum InvitationCreate { Invited, AlreadyMember, Forbidden, TooManyPending, OwnerInvitationPending }

internal enum InvitationRevoke { Revoked, NotFound, NotMember, Forbidden }

/// <summary>How an invitation addressed to the caller was answered.</summary>
internal enum InvitationAnswerOutcome
{
    /// <summary>Accepted: the caller is a member with the invited role. The invitation is used up.</summary>
    Joined,
    /// <summary>Accepted by a member already: nothing changed but a used-up invitation.</summary>
    AlreadyMember,
    /// <summary>Declined: the invitation is used up.</summary>
    Declined,
    /// <summary>The token given is not this invitation's (an older link of a renewed one, or another's). Nothing changed.</summary>
    WrongToken,
    /// <summary>The member who sent it can no longer invite for this role (removed, demoted, account deleted). Nothing
    /// changed: the invitation stays until it expires, is withdrawn, or is renewed by someone who may invite.</summary>
    InviterLostAuthority,
}

/// <summary>An answered invitation and what answering it did.</summary>
internal sealed record InvitationAnswer(InvitationDto Invitation, InvitationAnswerOutcome Outcome);
internal sealed record ChangeRoleRequest(string? Role);

/// <summary>Outcome of a membership change decided under row locks. Unchanged: the member already has that role.</summary>
internal enum MembershipChange { Done, Unchanged, NotMember, Forbidden, LastOwner }

/// <summary>A membership change's outcome and the target's role before it (null when not a member).</summary>
internal readonly record struct MembershipOutcome(MembershipChange Change, string? PreviousRole);

