using Gateway.Contracts;
using Gateway.Pipeline;
using Gateway.Routing;

namespace Gateway.Browsers;

/// <summary>
/// Answers a CORS preflight from the class's policy, without a backend call. Allowed: 204 with the origin, methods,
/// headers, credentials and max age. Refused: 403 <c>cors-preflight-refused</c> naming what was refused and no CORS
/// header, so the browser blocks the request and the developer sees why in the network panel (a bare 204 would not say).
/// </summary>
internal static class CorsPreflight
{
    private const string Title = "CORS preflight refused";

    public static Task AnswerAsync(HttpContext context, CorsPolicyConfig policy)
    {
        var request = context.Request;
        var origin = request.Headers.Origin;
        string? method = request.Headers.AccessControlRequestMethod.Count == 1 ? request.Headers.AccessControlRequestMethod[0] : null;
        var requested = request.Headers.AccessControlRequestHeaders;

        string? refusal =
            origin.Count != 1 || origin[0] is not { } value || !policy.AllowsOrigin(value) ? $"The origin '{origin}' may not call this route from a browser."
            : method is null || !policy.AllowsMethod(method) ? $"The method '{request.Headers.AccessControlRequestMethod}' is not allowed for cross-origin calls to this route."
            : FirstRefusedHeader(policy, requested) is { } header ? $"The request header '{header}' is not allowed for cross-origin calls to this route."
            : null;
        if (refusal is not null) return GatewayProblems.WriteAsync(context, ProblemTypes.CorsPreflightRefused, Title, StatusCodes.Status403Forbidden, refusal);

        var headers = context.Response.Headers;
        headers.AccessControlAllowOrigin = CorsHeaders.AllowOrigin(policy, origin);
        if (policy.Credentials) headers.AccessControlAllowCredentials = CorsHeaders.True;
        headers.AccessControlAllowMethods = policy.AllowMethodsValue;
        if (policy.AnyHeader && requested.Count > 0) headers.AccessControlAllowHeaders = requested;
        else if (policy.AllowHeadersValue.Count > 0) headers.AccessControlAllowHeaders = policy.AllowHeadersValue;
        if (policy.MaxAgeValue.Count > 0) headers.AccessControlMaxAge = policy.MaxAgeValue;
        CorsHeaders.AddVaryOrigin(headers);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
        return Task.CompletedTask;
    }

    /// <summary>The first header of <c>Access-Control-Request-Headers</c> (comma-separated, any number of lines) the policy does not list.</summary>
    private static string? FirstRefusedHeader(CorsPolicyConfig policy, Microsoft.Extensions.Primitives.StringValues requested)
    {
        if (policy.AnyHeader) return null;
        foreach (var line in requested)
        {
            if (line is null) continue;
            foreach (var part in line.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                if (!policy.Headers.Contains(part)) return part;
        }
        return null;
    }
}
