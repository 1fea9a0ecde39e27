using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

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

internal static class AdminAccessFilterExtensions
{
    /// <summary>
    /// <c>AddEndpointFilter&lt;AdminAccessFilter&gt;()</c> without its <c>ActivatorUtilities.CreateFactory</c>, which
    /// compiles an expression tree: with the request delegates generated at build time (Gateway.csproj), that was the
    /// last reason the gateway loaded System.Linq.Expressions (docs/performance.md, seventeenth pass).
    /// </summary>
    public static TBuilder RequireAdminAccess<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilterFactory(static (factory, next) =>
        {
            var filter = new AdminAccessFilter(factory.ApplicationServices.GetRequiredService<AdminAccess>());
            return invocation => filter.InvokeAsync(invocation, next);
        });
}
