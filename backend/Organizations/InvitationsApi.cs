using System.Security.Claims;
using Backend.Audit;
using Backend.Authz;
using Backend.Infrastructure;
using Backend.Invalidation;
using Backend.Sessions;
using Backend.Users;
using Gateway.Trust;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Backend.Organizations;

/// <summary>
/// How accounts join organisations: a member with <c>members:write</c> invites an email address
/// (<c>/orgs/{id}/invitations</c>) and sends the accept token it gets back to that address; the account holding the
/// address sees the invitation at <c>/invitations</c>, and accepts or declines it with the token. The invitation's
/// answer is the same whether the address has an account or not, and nobody joins without accepting.
/// </summary>
internal static class InvitationsApi
{
    public static IEndpointRouteBuilder MapInvitationsApi(this IEndpointRouteBuilder app)
    {
        var org = app.MapGroup("/orgs/{id:guid}/invitations").WithTags("Organizations").RequireAuthorization();
        org.MapPost("/", InviteAsync);
        org.MapGet("/", ListForOrgAsync);
        org.MapDelete("/{invitationId:guid}", RevokeAsync);
        var mine = app.MapGroup("/invitations").WithTags("Organizations").RequireAuthorization();
        mine.MapGet("/", ListMineAsync);
        mine.MapPost("/{invitationId:guid}/accept", (Guid invitationId, AnswerInvitationRequest request, ClaimsPrincipal caller,
            InvitationStore invitations, OrgStore orgs, AuditLog audit, InvalidationOutbox outbox, OutboxRelay relay, TimeProvider time,
            HttpContext http) => AnswerAsync(invitationId, accept: true, request, caller, invitations, orgs, audit, outbox, relay, time, http));
        mine.MapPost("/{invitationId:guid}/decline", (Guid invitationId, AnswerInvitationRequest request, ClaimsPrincipal caller,
            InvitationStore invitations, OrgStore orgs, AuditLog audit, InvalidationOutbox outbox, OutboxRelay relay, TimeProvider time,
            HttpContext http) => AnswerAsync(invitationId, accept: false, request, caller, invitations, orgs, audit, outbox, relay, time, http));
        return app;
    }

    internal static async Task<Results<Created<CreatedInvitationDto>, ValidationProblem, ProblemHttpResult>> InviteAsync(
        Guid id, InviteRequest request, ClaimsPrincipal caller, OrgStore orgs, InvitationStore invitations, AuditLog audit,
        TimeProvider time, HttpContext http)
    {
        var errors = new Dictionary<string, string[]>();
        UserValidation.Email(request.Email, errors);
        if (!Permissions.IsRole(request.Role)) errors["role"] = ["Role must be one of owner, admin, member."];
        if (errors.Count > 0) return Problems.ValidationFailed(errors);

        Guid actor = caller.UserId();
        string? actorRole = await orgs.RoleOfAsync(id, actor);
        if (actorRole is null) return Problems.NotFoundProblem("No such organisation.");
        string email = request.Email!.Trim();
        string token = SessionToken.Create();   // 256 bits from a CSPRNG; stored only as its hash
        var (outcome, invitation) = await audit.ChangeAndRecordAsync(
            (conn, tx) => invitations.CreateAsync(conn, tx, id, actor, email, UserValidation.NormalizeEmail(email), request.Role!,
                SessionToken.Hash(token), time.GetUtcNow().UtcDateTime),
            r => r.Outcome switch
            {
                InvitationCreate.Invited => new AuditEntry(AuditEvents.InvitationCreated, actor, id, http.ClientIp(), new { invitationId = r.Invitation!.Id, email, role = request.Role }),
                InvitationCreate.Forbidden or InvitationCreate.OwnerInvitationPending => new AuditEntry(AuditEvents.InvitationCreateRefused, actor, id, http.ClientIp(), new { email, role = request.Role }),
                _ => null,
            });
        // The store reads the actor's role again under lock: the read above may be stale.
        if (outcome == InvitationCreate.Invited) http.Response.Headers.CacheControl = "no-store";   // it carries the accept token
        return outcome switch
        {
            InvitationCreate.Invited => TypedResults.Created((string?)null, new CreatedInvitationDto(invitation!, token)),
            InvitationCreate.AlreadyMember => Problems.ConflictProblem("An account with this email is already a member."),
            InvitationCreate.TooManyPending => Problems.ConflictProblem(
                $"The organisation has {InvitationStore.MaxPendingPerOrg} pending invitations, the most it may have: withdraw some, or wait for them to be answered or to expire."),
            InvitationCreate.OwnerInvitationPending => Problems.ForbiddenProblem(
                "This address has a pending owner invitation: only an owner can renew or withdraw it."),
            _ => Problems.ForbiddenProblem(request.Role == Permissions.Roles.Owner
                ? "Only owners can invite owners."
                : "Inviting members requires members:write."),
        };
    }

    internal static async Task<Results<Ok<Page<InvitationDto>>, ProblemHttpResult>> ListForOrgAsync(
        Guid id, ClaimsPrincipal caller, OrgStore orgs, InvitationStore invitations, TimeProvider time, string? cursor = null, int? limit = null)
    {
        string? role = await orgs.RoleOfAsync(id, caller.UserId());
        if (role is null) return Problems.NotFoundProblem("No such organisation.");
        if (!Permissions.Allows(role, Permissions.MembersWrite)) return Problems.ForbiddenProblem("Requires members:write.");
        return TypedResults.Ok(await invitations.ListForOrgAsync(id, time.GetUtcNow().UtcDateTime, cursor, Cursor.ClampLimit(limit)));
    }

    internal static async Task<Results<NoContent, ProblemHttpResult>> RevokeAsync(
        Guid id, Guid invitationId, ClaimsPrincipal caller, InvitationStore invitations, AuditLog audit, HttpContext http)
    {
        Guid actor = caller.UserId();
        var outcome = await audit.ChangeAndRecordAsync(
            (conn, tx) => invitations.RevokeAsync(conn, tx, id, actor, invitationId),
            r => r == InvitationRevoke.Revoked ? new AuditEntry(AuditEvents.InvitationRevoked, actor, id, http.ClientIp(), new { invitationId }) : null);
        return outcome switch
        {
            InvitationRevoke.Revoked => TypedResults.NoContent(),
            InvitationRevoke.NotMember => Problems.NotFoundProblem("No such organisation."),
            InvitationRevoke.NotFound => Problems.NotFoundProblem("No such pending invitation."),
            _ => Problems.ForbiddenProblem("Withdrawing invitations requires members:write, and an owner's invitation an owner."),
        };
    }

    /// <summary>The caller's pending invitations, oldest first, a page at a time (<c>cursor</c>, <c>limit</c>).</summary>
    internal static async Task<Ok<Page<InvitationDto>>> ListMineAsync(ClaimsPrincipal caller, InvitationStore invitations, TimeProvider time,
        string? cursor = null, int? limit = null) =>
        TypedResults.Ok(await invitations.ListForUserAsync(caller.UserId(), time.GetUtcNow().UtcDateTime, cursor, Cursor.ClampLimit(limit)));

    /// <summary>
    /// Accepts or declines, with the invitation's accept token (<c>{"token": "..."}</c>, from its link). Declining uses the
    /// invitation up; accepting adds the membership with the invitation's role, uses it up, and answers once Redis has the
    /// user's raised principal fences and invalidations, as every membership change does. A refused answer is audited.
    /// </summary>
    internal static async Task<Results<Ok<OrgDto>, NoContent, ValidationProblem, ProblemHttpResult>> AnswerAsync(Guid invitationId, bool accept,
        AnswerInvitationRequest request, ClaimsPrincipal caller, InvitationStore invitations, OrgStore orgs, AuditLog audit,
        InvalidationOutbox outbox, OutboxRelay relay, TimeProvider time, HttpContext http)
    {
        if (request.Token is not { } token || !SessionToken.IsWellFormed(token))
            return Problems.ValidationFailed(new Dictionary<string, string[]>
            {
                ["token"] = [$"The invitation's accept token is required: the {SessionToken.Length} characters its link carries, as the inviter received them."],
            });
        string tokenHash = SessionToken.Hash(token);
        Guid user = caller.UserId();
        var answer = await audit.ChangeAndRecordAsync(
            (conn, tx) => invitations.AnswerAsync(conn, tx, invitationId, user, accept, tokenHash, time.GetUtcNow().UtcDateTime),
            a => a?.Outcome switch
            {
                InvitationAnswerOutcome.Declined => new AuditEntry(AuditEvents.InvitationDeclined, user, a.Invitation.OrgId, http.ClientIp(), new { invitationId }),
                InvitationAnswerOutcome.Joined => new AuditEntry(AuditEvents.MemberAdded, user, a.Invitation.OrgId, http.ClientIp(),
                    new { targetUserId = user, role = a.Invitation.Role, invitationId, invitedBy = a.Invitation.InvitedBy }),
                InvitationAnswerOutcome.WrongToken or InvitationAnswerOutcome.InviterLostAuthority => new AuditEntry(
                    AuditEvents.InvitationAnswerRefused, user, a.Invitation.OrgId, http.ClientIp(),
                    new { invitationId, answer = accept ? "accept" : "decline",
                          reason = a.Outcome == InvitationAnswerOutcome.WrongToken ? "wrong-token" : "inviter-cannot-invite" }),
                InvitationAnswerOutcome.AlreadyMember => new AuditEntry(AuditEvents.InvitationUsedByMember, user, a.Invitation.OrgId, http.ClientIp(),
                    new { invitationId, role = a.Invitation.Role, invitedBy = a.Invitation.InvitedBy }),
                _ => null,   // nothing found
            });
        switch (answer?.Outcome)
        {
            case null: return Problems.NotFoundProblem("No such pending invitation for this account.");
            case InvitationAnswerOutcome.Declined: return TypedResults.NoContent();
            case InvitationAnswerOutcome.WrongToken:
                return Problems.ForbiddenProblem("This is not the invitation's accept token. Use the link of the invitation's latest "
                    + "renewal: renewing issues a new token and retires the old one.");
            case InvitationAnswerOutcome.InviterLostAuthority:
                return Problems.ConflictProblem("The member who sent this invitation can no longer invite for its role (removed, "
                    + "demoted or deleted since). Ask the organisation to invite you again.");
            case InvitationAnswerOutcome.AlreadyMember:
                return Problems.ConflictProblem("You are already a member of this organisation; the invitation is used up.");
        }
        var orgId = answer.Invitation.OrgId;
        if (!await OrgsApi.ConfirmMembershipAsync(orgId, user, outbox, relay, http))
            return Problems.RevocationPendingProblem(http, doNotRepeat:
                $"You are a member of the organisation {orgId} and the invitation is used: a repeat would find none.");
        return await orgs.GetForMemberAsync(orgId, user) is { } org
            ? TypedResults.Ok(org)
            : Problems.NotFoundProblem("The organisation was deleted, or you were removed from it, since.");
    }
}
