using Gateway.Observability;
using Gateway.Routing;
using Microsoft.Extensions.Primitives;

namespace Gateway.Health;

/// <summary>
/// Answers <c>/health</c> (liveness: static bytes, no I/O) and <c>/ready</c> (the background probe's last verdict)
/// before routing, authentication, rate limiting, proxying and the telemetry middleware. It sets the headers every
/// response carries (<c>X-Route-Class</c>, <c>X-Request-Id</c>, <c>X-Response-Time</c>) itself, without the telemetry
/// middleware's per-request feature, callbacks and metrics: that kept <c>/health</c> at ~0.84× a bare Kestrel endpoint;
/// answered here it measures ~0.9× (docs/performance.md). Health probes are not part of the tier statistics anyway, nor
/// of ASP.NET Core's request-duration histogram.
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
        // A 2xx with a body cannot answer CONNECT (2xx means "tunnel open"): Kestrel refused the write, an unhandled
        // exception logged at Error, and the client got a 500. CONNECT goes on to the pipeline: a tunnel CONNECT is
        // refused there (ProtocolRefusalsMiddleware), an HTTP/2 WebSocket gets the 404 of a path no route serves.
        // Checked after the path, so other requests never pay for it.
        if (HttpMethods.IsConnect(context.Request.Method)) return next(context);
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        if (string.Equals(path, "/health", StringComparison.OrdinalIgnoreCase)) return Write(context, 200, HealthBody, start);
        if (string.Equals(path, "/ready", StringComparison.OrdinalIgnoreCase))
        {
            var state = probe.Current;
            return Write(context, state.IsReady ? 200 : 503, state.Body, start);
        }
        return next(context);
    }

    private static Task Write(HttpContext context, int status, byte[] body, long start)
    {
        // Probes stay out of ASP.NET Core's http.server.request.duration too (the documented DisableHttpMetrics
        // behaviour): a kubelet's probes are not traffic, and recording them cost a visible share of a probe's CPU.
        if (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMetricsTagsFeature>() is { } metrics) metrics.MetricsDisabled = true;
        var response = context.Response;
        response.StatusCode = status;
        var headers = response.Headers;
        var incoming = context.Request.Headers[RequestTelemetryMiddleware.RequestIdHeader];
        headers[RequestTelemetryMiddleware.RequestIdHeader] = incoming.Count == 1 && RequestIds.IsWellFormed(incoming[0])
            ? incoming : new StringValues(RequestIds.Create(null));
        headers[RequestTelemetryMiddleware.ResponseTimeHeader] = ResponseTime.Milliseconds(System.Diagnostics.Stopwatch.GetElapsedTime(start));
        headers.ContentType = JsonType;
        headers.CacheControl = NoStore;
        headers[RouteClassificationMiddleware.HeaderName] = HealthClassHeader;
        response.ContentLength = body.Length;
        // No RequestAborted token: a few bytes into Kestrel's pipe complete synchronously, and the getter rents a
        // CancellationTokenSource per request.
        return response.Body.WriteAsync(body, 0, body.Length);
    }
}
