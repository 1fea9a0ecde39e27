using System.Globalization;
using Gateway.Pipeline;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Gateway.Observability;

/// <summary>
/// First gateway middleware (after header hygiene): assigns <c>X-Request-Id</c> (kept when well-formed, else generated;
/// written to the request so the proxy forwards it), sets <c>X-Response-Time</c> (and, when an operator switched it on,
/// <c>Server-Timing</c>) when the response starts, and at the
/// end records <c>gateway.request.duration</c>, over-budget counts and logs, and <see cref="RollingStats"/>.
/// Route class, tier and budget are read from <see cref="GatewayRequestFeature"/> set by the core.
/// </summary>
internal sealed partial class RequestTelemetryMiddleware
{
    public const string RequestIdHeader = "X-Request-Id";
    public const string ResponseTimeHeader = "X-Response-Time";
    public const string CacheHeader = "X-Cache";
    private const string UnclassifiedTier = "unclassified";
    private const string UnmatchedRoute = "unmatched";

    private readonly RequestDelegate _next;
    private readonly GatewayMetrics _metrics;
    private readonly RollingStats _stats;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly LogThrottle<string> _limiter;
    private readonly Dictionary<string, double> _budgets;
    private readonly int _operatorPort;
    private static readonly Func<object, Task> SetResponseTime = OnStarting;
    private static readonly Func<object, Task> SetResponseAndServerTiming = OnStartingWithServerTiming;
    private readonly bool _serverTiming;

    public RequestTelemetryMiddleware(RequestDelegate next, GatewayMetrics metrics, RollingStats stats, TimeProvider time,
        IOptions<ObservabilityOptions> options, ILogger<RequestTelemetryMiddleware> logger, AdminListener? operatorListener = null)
    {
        _operatorPort = (operatorListener ?? AdminListener.Disabled).Port;
        _next = next;
        _metrics = metrics;
        _stats = stats;
        _time = time;
        _logger = logger;
        var o = options.Value;
        _budgets = new Dictionary<string, double>(o.TierBudgetsMs, StringComparer.Ordinal);
        _limiter = new LogThrottle<string>(time, o.OverBudgetLogsPerWindow, TimeSpan.FromSeconds(o.OverBudgetLogWindowSeconds));
        _serverTiming = o.ServerTiming.Enabled;
        if (_serverTiming) ServerTiming.EnableMeasuring();
    }

    public Task InvokeAsync(HttpContext context)
    {
        // Operator traffic (dashboard polling, Prometheus scrapes) is not client traffic of any tier: counted, it made the
        // dashboard's own polling look like ultra-fast requests over budget.
        if (context.Connection.LocalPort == _operatorPort) return _next(context);
        var feature = new RequestTelemetryFeature(context, _time);
        context.Features.Set(feature);
        // Created here rather than by classification, so every later stage's lookup finds it (a miss also searches the
        // connection's features). RouteClass stays "" until classification: Complete reads that as unclassified.
        var gateway = new GatewayRequestFeature { StartTimestamp = System.Diagnostics.Stopwatch.GetTimestamp(), Telemetry = feature };
        context.Features.Set(gateway);
        string requestId = AssignRequestId(context);
        context.Response.OnStarting(_serverTiming ? SetResponseAndServerTiming : SetResponseTime, feature);
        Task pending;
        try
        {
            pending = _next(context);
        }
        catch (Exception error)
        {
            pending = Task.FromException(error);   // ended below like one thrown later: the admission's 504, release, counts
        }
        // Requests answered synchronously (health, cache hits, rejections) skip the async state machine.
        if (pending.IsCompletedSuccessfully)
        {
            End(context, gateway, feature, requestId);
            return Task.CompletedTask;
        }
        return AwaitAsync(pending, context, gateway, feature, requestId);
    }

    /// <summary>
    /// The request's one frame that waits for its end: it also releases what admission holds (the tier's slot and the
    /// class's deadline, <see cref="Resilience.AdmissionMiddleware"/>), which spares every proxied request a frame of its own.
    /// </summary>
    private async Task AwaitAsync(Task pending, HttpContext context, GatewayRequestFeature gateway, RequestTelemetryFeature feature, string requestId)
    {
        try
        {
            await pending.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when ((GatewayRequestFeature.Of(context) ?? gateway).Admission.TimedOut(context))
        {
            Resilience.AdmissionHold.AnswerTimeout(context);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested && !context.Response.HasStarted)
        {
            // The client left while a stage waited for it (an introspection, Redis): nobody to answer. Counted as 499, as
            // nginx logs it, not as the 200 the response still held; not a server error, and nothing to log.
            context.Response.StatusCode = StatusCodes.Status499ClientClosedRequest;
        }
        finally
        {
            End(context, gateway, feature, requestId);
        }
    }

    private void End(HttpContext context, GatewayRequestFeature created, RequestTelemetryFeature feature, string requestId)
    {
        // The request's feature as the stages left it: the one created above unless a stage set its own (tests do).
        var gateway = GatewayRequestFeature.Of(context) ?? created;
        var admission = gateway.Admission;
        if (!admission.IsEmpty)
        {
            gateway.Admission = default;
            admission.Release(context);
        }
        Complete(context, gateway, feature, requestId);
    }

    private string AssignRequestId(HttpContext context)
    {
        var headers = context.Request.Headers;
        var incoming = headers[RequestIdHeader];
        string requestId;
        if (incoming.Count == 1 && RequestIds.IsWellFormed(incoming[0]))
        {
            requestId = incoming[0]!;
        }
        else
        {
            requestId = RequestIds.Create(System.Diagnostics.Activity.Current);
            headers[RequestIdHeader] = requestId;
        }
        context.Response.Headers[RequestIdHeader] = requestId;
        return requestId;
    }

    private static Task OnStarting(object state)
    {
        var feature = (RequestTelemetryFeature)state;
        var elapsed = feature.Time.GetElapsedTime(feature.StartTimestamp);
        feature.Context.Response.Headers[ResponseTimeHeader] = ResponseTime.Milliseconds(elapsed);
        return Task.CompletedTask;
    }

    private static Task OnStartingWithServerTiming(object state)
    {
        var feature = (RequestTelemetryFeature)state;
        var elapsed = feature.Time.GetElapsedTime(feature.StartTimestamp);
        var headers = feature.Context.Response.Headers;
        headers[ResponseTimeHeader] = ResponseTime.Milliseconds(elapsed);
        headers[ServerTiming.HeaderName] = ServerTiming.Format(feature, elapsed);
        return Task.CompletedTask;
    }

    private void Complete(HttpContext context, GatewayRequestFeature gateway, RequestTelemetryFeature feature, string requestId)
    {
        double ms = _time.GetElapsedTime(feature.StartTimestamp).TotalMilliseconds;
        bool classified = gateway.RouteClass.Length > 0;
        string tier = gateway.Tier.Length > 0 ? gateway.Tier : UnclassifiedTier;
        string routeClass = classified ? gateway.RouteClass : UnmatchedRoute;
        double budget = gateway.BudgetMs > 0 ? gateway.BudgetMs : _budgets.GetValueOrDefault(tier);
        // A client that went away is not a server error: count what the server meant to send.
        int status = context.Response.StatusCode;

        _metrics.RecordRequest(ms / 1000.0, tier, routeClass, status);
        // A request whose time went to its client (a stalled or abandoned upload) is not the gateway missing its budget:
        // counted, one client could raise its tier's over-budget rate at will and use up the tier's Warning allowance,
        // hiding the backend's real ones. The duration histogram above still counts it, under its status.
        bool over = budget > 0 && ms > budget && !gateway.WaitedOnClient;
        if (over)
        {
            _metrics.RecordOverBudget(tier, routeClass);
            if (_logger.IsEnabled(LogLevel.Warning) && _limiter.TryAcquire(tier, out var suppressed))
            {
                var (stage, stageMs) = feature.LongestStage();
                Log.OverBudget(_logger, requestId, tier, routeClass, ms, budget, stage, stageMs, suppressed.Count);
            }
        }

        // Requests the core never classified stay out of the tier statistics.
        if (!classified) return;
        _stats.Record(new RequestSample(tier, ms, status, over, CacheResult(context), gateway.ValidationSource,
            routeClass, gateway.Cluster, gateway.Shed));
    }

    /// <summary>The response cache marks responses with X-Cache: HIT or MISS; absent means the cache did not apply.</summary>
    private static bool? CacheResult(HttpContext context)
    {
        var value = context.Response.Headers[CacheHeader];
        if (value.Count == 0) return null;
        return string.Equals(value[0], "HIT", StringComparison.OrdinalIgnoreCase);
    }
}
