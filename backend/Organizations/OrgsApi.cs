using System.Security.Claims;
using Backend.Audit;
using Backend.Authz;
using Backend.Infrastructure;
using Backend.Invalidation;
using Backend.Sessions;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Backend.Organizations;

/// <summary><c>/orgs/*</c>: organisations and their members. Non-members get 404 (existence is not revealed).</summary>
internal static class OrgsApi
{
    public static IEndpointRouteBuilder MapOrgsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/orgs").WithTags("Organizations").RequireAuthorization();
        group.MapPost("/", CreateAsync);
        group.MapGet("/{id:guid}", GetAsync);
        group.MapGet("/{id:guid}/members", ListMembersAsync);
        group.MapPost("/{id:guid}/members", AddMemberWithdrawn);
        group.MapPatch("/{id:guid}/members/{userId:guid}", ChangeRoleAsync);
        group.MapDelete("/{id:guid}/members/{userId:guid}", RemoveMemberAsync);
        return app;
    }

    internal static async Task<Results<Created<OrgDto>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        CreateOrgRequest request, ClaimsPrincipal caller, OrgStore orgs, AuditLog audit, InvalidationOutbox outbox, OutboxRelay relay,
        TimeProvider time, HttpContext http)
    {
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Trim().Length > 200)
            return Problems.ValidationFailed(new() { ["name"] = ["Name is required (at most 200 characters)."] });
        Guid userId = caller.UserId();
        var org = await audit.ChangeAndRecordAsync(
            (conn, tx) => orgs.CreateAsync(conn, tx, request.Name.Trim(), userId, time.GetUtcNow().UtcDateTime),
            o => new AuditEntry(AuditEvents.OrgCreated, userId, o.Id, http.ClientIp(), new { name = o.Name }));
        // The creator's principal gained a membership (queued by the org_members trigger).
        if (!await ConfirmMembershipAsync(org.Id, userId, outbox, relay, http))
            return Problems.RevocationPendingProblem(http, doNotRepeat: $"The organisation {org.Id} is created and you are its owner; a repeat would create another one.");
        return TypedResults.Created($"/orgs/{org.Id}", org);
    }

    internal static async Task<Results<Ok<OrgDto>, ProblemHttpResult>> GetAsync(Guid id, ClaimsPrincipal caller, OrgStore orgs)
    {
        var org = await orgs.GetForMemberAsync(id, caller.UserId());
        return org is null ? Problems.NotFoundProblem("No such organisation.") : TypedResults.Ok(org);
    }

    internal static async Task<Results<Ok<Page<MemberDto>>, ProblemHttpResult>> ListMembersAsync(
        Guid id, ClaimsPrincipal caller, OrgStore orgs, string? cursor = null, int? limit = null)
    {
        string? role = await orgs.RoleOfAsync(id, caller.UserId());
        if (role is null) return Problems.NotFoundProblem("No such organisation.");
        if (!Permissions.Allows(role, Permissions.MembersRead)) return Problems.ForbiddenProblem("Requires members:read.");
        return TypedResults.Ok(await orgs.ListMembersAsync(id, cursor, Cursor.ClampLimit(limit)));
    }

    /// <summary>
    /// Withdrawn 2026-12-05: it added any registered account without its consent, and its 404 for an unknown address told
    /// anyone who created an organisation which addresses had accounts. Members join by accepting an invitation.
    /// </summary>
    internal static ProblemHttpResult AddMemberWithdrawn(Guid id) =>
        Problems.GoneProblem($"Members join by invitation: POST /orgs/{id}/invitations {{email, role}}, then the invited account accepts with POST /invitations/{{invitationId}}/accept.");

    internal static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> ChangeRoleAsync(
        Guid id, Guid userId, ChangeRoleRequest request, ClaimsPrincipal caller, OrgStore orgs, AuditLog audit,
        InvalidationOutbox outbox, OutboxRelay relay, HttpContext http)
    {
        if (!Permissions.IsRole(request.Role))
            return Problems.ValidationFailed(new() { ["role"] = ["Role must be one of owner, admin, member."] });
        var result = await ApplyAsync(id, userId, request.Role, caller, orgs, audit, outbox, relay, http,
            previous => new AuditEntry(AuditEvents.MemberRoleChanged, caller.UserId(), id, http.ClientIp(),
                new { targetUserId = userId, role = request.Role, previousRole = previous }));
        if (result is not null) return result;
        if (!await ConfirmMembershipAsync(id, userId, outbox, relay, http)) return Problems.RevocationPendingProblem(http);
        return TypedResults.NoContent();
    }

    internal static async Task<Results<NoContent, ProblemHttpResult>> RemoveMemberAsync(
        Guid id, Guid userId, ClaimsPrincipal caller, OrgStore orgs, AuditLog audit,
        InvalidationOutbox outbox, OutboxRelay relay, HttpContext http)
    {
        var result = await ApplyAsync(id, userId, null, caller, orgs, audit, outbox, relay, http,
            previous => new AuditEntry(AuditEvents.MemberRemoved, caller.UserId(), id, http.ClientIp(),
                new { targetUserId = userId, previousRole = previous, left = userId == caller.UserId() }));
        if (result is not null) return result;
        if (!await ConfirmMembershipAsync(id, userId, outbox, relay, http)) return Problems.RevocationPendingProblem(http);
        return TypedResults.NoContent();
    }

    /// <summary>
    /// The membership change and, when it is made, its audit record (given the target's previous role), in one
    /// transaction. Null when done or when there was nothing to change; else the problem to answer.
    /// </summary>
    private static async Task<ProblemHttpResult?> ApplyAsync(Guid orgId, Guid target, string? newRole, ClaimsPrincipal caller, OrgStore orgs,
        AuditLog audit, InvalidationOutbox outbox, OutboxRelay relay, HttpContext http, Func<string?, AuditEntry> record)
    {
        Guid actor = caller.UserId();
        if (await orgs.RoleOfAsync(orgId, actor) is null) return Problems.NotFoundProblem("No such organisation.");
        var outcome = await audit.ChangeAndRecordAsync(
            (conn, tx) => orgs.ChangeAsync(conn, tx, orgId, actor, target, newRole),
            outcome => outcome.Change switch
            {
                MembershipChange.Done => record(outcome.PreviousRole),
                MembershipChange.Forbidden or MembershipChange.LastOwner => new AuditEntry(AuditEvents.MemberChangeRefused, actor, orgId, http.ClientIp(),
                    new { targetUserId = target, role = newRole, previousRole = outcome.PreviousRole,
                          reason = outcome.Change == MembershipChange.Forbidden ? "forbidden" : "last-owner" }),
                _ => null,
            });
        return outcome.Change switch
        {
            // Unchanged may be the repeat of a first try that answered 503: the caller still waits for pending entries.
            MembershipChange.Done or MembershipChange.Unchanged => null,
            // Perhaps removed by a first try that answered 503: its repeat waits for the pending entries, so the 404 is not
            // given while the edge may still hold the old membership.
            MembershipChange.NotMember => await ConfirmMembershipAsync(orgId, target, outbox, relay, http)
                ? Problems.NotFoundProblem("The user is not a member of this organisation.") : Problems.RevocationPendingProblem(http),
            MembershipChange.Forbidden => Problems.ForbiddenProblem("Your role does not allow this change (admins cannot modify owners or grant owner)."),
            _ => Problems.ConflictProblem("The last owner cannot be removed or demoted."),
        };
    }

    /// <summary>
    /// Waits until Redis acknowledged what the <c>org_members_changed</c> trigger queued with the change: the user's raised
    /// principal fences and the user and organisation invalidations. False when it did not in time.
    /// </summary>
    internal static async Task<bool> ConfirmMembershipAsync(Guid orgId, Guid userId, InvalidationOutbox outbox, OutboxRelay relay, HttpContext http) =>
        await relay.ConfirmAsync(await outbox.PendingAsync(userId, orgId), http.RequestAborted);
}
