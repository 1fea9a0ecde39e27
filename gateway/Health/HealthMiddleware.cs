using Gateway.Routing;
using Microsoft.Extensions.Primitives;

namespace Gateway.Health;

/// <summary>
/// Answers <c>/health</c> (liveness: static bytes, no I/O) and <c>/ready</c> (the background probe's last verdict)
/// before routing, authentication, rate limiting and proxying.
/// </summary>
internal sealed class HealthMiddleware(RequestDelegate next, ReadinessProbe probe)
{
    public const string HealthClass = "health";
    private static readonly byte[] HealthBody = "{\"status\":\"ok\"}"u8.ToArray();
    private static readonly StringValues HealthClassHeader = new(HealthClass);
    private static readonly StringValues JsonType = new("application/json");
    private static readonly StringValues NoStore = new("no-store");

    public Task Invoke(HttpContext context)
    {
        var path = context.Request.Path.Value;
        if (path is null || path.Length is not (6 or 7)) return next(context);
        if (string.Equals(path, "/health", StringComparison.OrdinalIgnoreCase)) return Write(context, 200, HealthBody);
        if (string.Equals(path, "/ready", StringComparison.OrdinalIgnoreCase))
        {
            var state = probe.Current;
            return Write(context, state.IsReady ? 200 : 503, state.Body);
        }
        return next(context);
    }

    private static Task Write(HttpContext context, int status, byte[] body)
    {
        var response = context.Response;
        response.StatusCode = status;
        var headers = response.Headers;
        headers.ContentType = JsonType;
        headers.CacheControl = NoStore;
        headers[RouteClassificationMiddleware.HeaderName] = HealthClassHeader;
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body, 0, body.Length, context.RequestAborted);
    }
}
