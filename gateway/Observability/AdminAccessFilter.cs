using Microsoft.AspNetCore.Http;

namespace Gateway.Observability;

/// <summary>Endpoint filter applying <see cref="AdminAccess"/>; 403 ProblemDetails otherwise.</summary>
internal sealed class AdminAccessFilter(AdminAccess access) : IEndpointFilter
{
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (access.IsAdmin(context.HttpContext)) return next(context);
        return ValueTask.FromResult<object?>(TypedResults.Problem(
            statusCode: StatusCodes.Status403Forbidden,
            title: "Operator access required",
            detail: "This endpoint answers loopback clients or requests carrying a valid X-Admin-Key header (or Authorization: AdminKey <key>).",
            type: "https://gateway.local/problems/admin-required"));
    }
}
