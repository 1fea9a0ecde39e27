using Gateway.Pipeline;
using Gateway.Routing;
using Microsoft.Extensions.Primitives;

namespace Gateway.Browsers;

/// <summary>
/// CORS at the edge, per route class (<c>"cors"</c> naming a policy under <c>corsPolicies</c>). Runs right after
/// classification: a preflight is answered here (204 with the policy's headers, or 403 <c>cors-preflight-refused</c>
/// without any) before load shedding, sessions and rate limits, and never reaches a backend. Every other answer of
/// the class, the gateway's own 401/403/429/503 included, gets the CORS headers when its origin is allowed and none
/// when it is not, whatever the backend sent. A class without a policy costs one field read.
/// </summary>
internal sealed class CorsMiddleware(RequestDelegate next)
{
    // ASP.NET Core's EndpointMiddleware refuses to run an endpoint with CORS metadata (which the YARP routes of CORS
    // classes carry, see ProxyConfigBuilder) unless a CORS middleware left this mark: this is that middleware.
    private const string CorsHandledKey = "__CorsMiddlewareWithEndpointInvoked";
    private static readonly object CorsHandledValue = new();
    private static readonly Func<object, Task> ApplyOnStarting = Apply;

    public Task Invoke(HttpContext context)
    {
        var feature = GatewayRequestFeature.Of(context);
        var policy = feature?.Class?.Cors;
        if (policy is null)
        {
            // The route was built while its class had a policy and a reload has since removed it: no CORS answers, but
            // the mark ASP.NET's endpoint middleware asks for, or it would throw (a 500) for this request.
            if (feature is { RouteHasCors: true }) context.Items[CorsHandledKey] = CorsHandledValue;
            return next(context);
        }

        context.Items[CorsHandledKey] = CorsHandledValue;
        var request = context.Request;
        if (HttpMethods.IsOptions(request.Method) && request.Headers.Origin.Count > 0 && request.Headers.AccessControlRequestMethod.Count > 0)
            return CorsPreflight.AnswerAsync(context, policy);
        context.Response.OnStarting(ApplyOnStarting, context);
        return next(context);
    }

    /// <summary>
    /// At the last moment before the headers go out, so it covers every writer (proxy, cache hit, gateway problem) and
    /// overrides what a backend said: the edge owns CORS for the class.
    /// </summary>
    private static Task Apply(object state)
    {
        var context = (HttpContext)state;
        var policy = GatewayRequestFeature.Of(context)?.Class?.Cors;
        if (policy is null) return Task.CompletedTask;
        var headers = context.Response.Headers;
        CorsHeaders.RemoveAll(headers);
        CorsHeaders.AddVaryOrigin(headers);
        var origin = context.Request.Headers.Origin;
        if (origin.Count != 1 || origin[0] is not { } value || !policy.AllowsOrigin(value)) return Task.CompletedTask;
        headers.AccessControlAllowOrigin = CorsHeaders.AllowOrigin(policy, origin);
        if (policy.Credentials) headers.AccessControlAllowCredentials = CorsHeaders.True;
        if (policy.ExposeHeadersValue.Count > 0) headers.AccessControlExposeHeaders = policy.ExposeHeadersValue;
        return Task.CompletedTask;
    }
}

/// <summary>Header helpers shared by preflight and actual answers.</summary>
internal static class CorsHeaders
{
    public static readonly StringValues True = new("true");
    private static readonly StringValues Any = new("*");
    private const string Origin = "Origin";

    /// <summary><c>*</c> for a public policy without credentials (cacheable for everyone), else the request's own origin.</summary>
    public static StringValues AllowOrigin(CorsPolicyConfig policy, StringValues origin) =>
        policy.AnyOrigin && !policy.Credentials ? Any : origin;

    public static void RemoveAll(IHeaderDictionary headers)
    {
        headers.Remove("Access-Control-Allow-Origin");
        headers.Remove("Access-Control-Allow-Credentials");
        headers.Remove("Access-Control-Expose-Headers");
        headers.Remove("Access-Control-Allow-Methods");
        headers.Remove("Access-Control-Allow-Headers");
        headers.Remove("Access-Control-Max-Age");
    }

    /// <summary>The answer depends on <c>Origin</c>, so a shared cache must not hand one origin's answer to another.</summary>
    public static void AddVaryOrigin(IHeaderDictionary headers)
    {
        var vary = headers.Vary;
        foreach (var v in vary)
            if (v is not null && v.Contains(Origin, StringComparison.OrdinalIgnoreCase)) return;
        headers.Vary = vary.Count == 0 ? Origin : StringValues.Concat(vary, Origin);
    }
}
