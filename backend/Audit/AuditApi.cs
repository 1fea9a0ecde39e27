using System.Security.Claims;
using Backend.Authz;
using Backend.Infrastructure;
using Backend.Organizations;
using Backend.Sessions;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Backend.Audit;

/// <summary><c>GET /audit</c>: the caller's own trail, or with <c>?org=</c> an organisation's trail (owners and admins).</summary>
internal static class AuditApi
{
    public static IEndpointRouteBuilder MapAuditApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/audit", ListAsync).WithTags("Audit").RequireAuthorization();
        return app;
    }

    internal static async Task<Results<Ok<Page<AuditEventDto>>, ProblemHttpResult>> ListAsync(
        ClaimsPrincipal caller, AuditStore audit, OrgStore orgs, Guid? org = null, string? cursor = null, int? limit = null)
    {
        int n = Cursor.ClampLimit(limit);
        if (org is null) return TypedResults.Ok(await audit.ByUserAsync(caller.UserId(), cursor, n));
        string? role = await orgs.RoleOfAsync(org.Value, caller.UserId());
        if (role is null) return Problems.NotFoundProblem("No such organisation.");
        if (!Permissions.Allows(role, Permissions.AuditRead)) return Problems.ForbiddenProblem("Reading the organisation's audit trail requires audit:read.");
        return TypedResults.Ok(await audit.ByOrgAsync(org.Value, cursor, n));
    }
}
