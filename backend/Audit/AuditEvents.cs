namespace Backend.Audit;

/// <summary>The recorded event types (stable strings; they are stored and returned).</summary>
internal static class AuditEvents
{
    public const string Register = "register";
    public const string LoginSucceeded = "login.success";
    public const string LoginFailed = "login.failure";
    public const string Logout = "logout";
    public const string LogoutAll = "logout-all";
    public const string PasswordChanged = "password.change";
    /// <summary>A wrong current password at <c>PUT /users/password</c>: a signed-in session guessing, a sign of a stolen one.</summary>
    public const string PasswordChangeFailed = "password.change-failure";
    public const string SessionRevoked = "session.revoked";
    public const string MemberAdded = "membership.added";
    public const string MemberRoleChanged = "membership.role-changed";
    public const string MemberRemoved = "membership.removed";
    /// <summary>A role change or removal refused (the actor's role does not allow it, or it would leave no owner): an
    /// attempt to gain or take rights leaves a trace, as a refused invitation answer does. Nothing changed.</summary>
    public const string MemberChangeRefused = "membership.change-refused";
    public const string OrgCreated = "org.created";
    public const string InvitationCreated = "invitation.created";
    /// <summary>An invitation refused because the sender's role does not allow it (an admin inviting an owner). Nothing changed.</summary>
    public const string InvitationCreateRefused = "invitation.create-refused";
    /// <summary>An invitation accepted by an account that was already a member: used up, the member's role unchanged.</summary>
    public const string InvitationUsedByMember = "invitation.used-by-member";
    public const string InvitationRevoked = "invitation.revoked";
    public const string InvitationDeclined = "invitation.declined";
    /// <summary>An answer refused, with its reason: a token not the invitation's (someone holding the address without its
    /// link, guessing), or a sender who can no longer invite. Nothing changed.</summary>
    public const string InvitationAnswerRefused = "invitation.answer-refused";
}
