using System.Security.Claims;
using Backend.Infrastructure;
using Backend.Organizations;
using Backend.Sessions;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Backend.Authz;

/// <summary><c>GET /authz/check</c>: may the caller do <c>permission</c> in <c>org</c>?</summary>
internal static class AuthzApi
{
    public sealed record CheckResult(bool Allowed, string? Role, string Reason);

    public static IEndpointRouteBuilder MapAuthzApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/authz/check", CheckAsync).WithTags("Authz").RequireAuthorization();
        return app;
    }

    internal static async Task<Results<Ok<CheckResult>, ValidationProblem>> CheckAsync(
        ClaimsPrincipal caller, OrgStore orgs, Guid? org = null, string? permission = null)
    {
        var errors = new Dictionary<string, string[]>();
        if (org is null) errors["org"] = ["org (an organisation id) is required."];
        if (permission is null || !Permissions.All.Contains(permission))
            errors["permission"] = [$"permission must be one of: {string.Join(", ", Permissions.All)}."];
        if (errors.Count > 0) return Problems.ValidationFailed(errors);

        string? role = await orgs.RoleOfAsync(org!.Value, caller.UserId());
        if (role is null) return TypedResults.Ok(new CheckResult(false, null, "not a member of the organisation"));
        bool allowed = Permissions.Allows(role, permission!);
        return TypedResults.Ok(new CheckResult(allowed, role, allowed ? $"role {role} grants {permission}" : $"role {role} does not grant {permission}"));
    }
}
