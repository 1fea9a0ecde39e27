using Gateway.Pipeline;
using System.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace Gateway.Observability;

/// <summary>
/// The gateway's <see cref="ActivitySource"/> (<c>Gateway</c>) and stage scopes. Usage in a stage:
/// <code>using var stage = GatewayTracing.StartStage(context, GatewayStage.CacheLookup);</code>
/// The scope times the stage into <see cref="RequestTelemetryFeature"/> and, only when a tracer listens, opens a span
/// named <c>gateway.cache.lookup</c> etc. With no listener the span is null and costs nothing.
/// </summary>
internal static class GatewayTracing
{
    /// <summary>The ActivitySource name to add to a tracer provider.</summary>
    public const string SourceName = "Gateway";

    public static readonly ActivitySource Source = new(SourceName);

    private static readonly string[] SpanNames =
        ["gateway.classify", "gateway.session.validate", "gateway.cache.lookup", "gateway.ratelimit", "gateway.proxy"];

    /// <summary>Starts a span for a stage without timing it; null when nobody listens.</summary>
    public static Activity? StartStage(GatewayStage stage) => Source.StartActivity(SpanNames[(int)stage], ActivityKind.Internal);

    /// <summary>Starts a timed stage scope; dispose it when the stage ends.</summary>
    public static StageScope StartStage(HttpContext context, GatewayStage stage) =>
        new(TelemetryOf(GatewayRequestFeature.Of(context), context), stage, StartStage(stage));

    /// <summary>As <see cref="StartStage(HttpContext, GatewayStage)"/>, for a stage that holds the request's feature already.</summary>
    public static StageScope StartStage(GatewayRequestFeature feature, HttpContext context, GatewayStage stage) =>
        new(TelemetryOf(feature, context), stage, StartStage(stage));

    // The request feature carries the telemetry it was created with; one set later by other code (a test host standing
    // in for the core) does not, and the feature of its own is still there.
    private static RequestTelemetryFeature? TelemetryOf(GatewayRequestFeature? feature, HttpContext context) =>
        feature?.Telemetry ?? context.Features.Get<RequestTelemetryFeature>();
}

/// <summary>A running stage: records its elapsed time and ends its span on dispose. A struct: no allocation.</summary>
internal readonly struct StageScope : IDisposable
{
    private readonly RequestTelemetryFeature? _feature;
    private readonly GatewayStage _stage;
    private readonly long _start;

    internal StageScope(RequestTelemetryFeature? feature, GatewayStage stage, Activity? activity)
    {
        _feature = feature;
        _stage = stage;
        Activity = activity;
        _start = Stopwatch.GetTimestamp();
        if (stage == GatewayStage.Proxy && ServerTiming.Measuring) feature?.ProxyStarted(_start);
    }

    /// <summary>The span, when tracing listens; add tags to it if useful.</summary>
    public Activity? Activity { get; }

    /// <summary>Seconds since the stage started (read after <see cref="Dispose"/> for the stage's duration).</summary>
    public double ElapsedSeconds => Stopwatch.GetElapsedTime(_start).TotalSeconds;

    public void Dispose()
    {
        _feature?.AddStageTicks(_stage, Stopwatch.GetTimestamp() - _start);
        Activity?.Dispose();
    }
}
