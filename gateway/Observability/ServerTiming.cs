using System.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace Gateway.Observability;

/// <summary>
/// The <c>Server-Timing</c> header (W3C Server Timing) built from <see cref="RequestTelemetryFeature"/>'s stage times:
/// <c>classify;dur=0.004, validate;dur=0.120, limit;dur=0.031, cache;dur=0.012, upstream;dur=2.412, total;dur=2.701</c>
/// (milliseconds; a stage that did not run is left out). It is written when the response starts, so <c>upstream</c> is the
/// time to the backend's response headers, and <c>total</c> equals <c>X-Response-Time</c>.
/// </summary>
internal static class ServerTiming
{
    public const string HeaderName = "Server-Timing";

    // In the order the pipeline runs them (the header is read left to right as a timeline).
    private static readonly GatewayStage[] Stages =
        [GatewayStage.Classify, GatewayStage.ValidateSession, GatewayStage.RateLimit, GatewayStage.CacheLookup, GatewayStage.Proxy];
    private static readonly string[] Names = ["classify", "validate", "limit", "cache", "upstream"];

    /// <summary>
    /// Whether the stages only Server-Timing reports (classify, limit, cache) are timed. Process-wide and only ever switched
    /// on, by a gateway whose <see cref="ServerTimingOptions.Enabled"/> is set: with it off (the default) each of those
    /// stages pays one static bool read. The header itself is per gateway (<see cref="RequestTelemetryMiddleware"/>).
    /// </summary>
    public static bool Measuring { get; private set; }

    public static void EnableMeasuring() => Measuring = true;

    /// <summary>A timestamp to pass to <see cref="AddStage"/>, or 0 when nothing is measured.</summary>
    public static long Start() => Measuring ? Stopwatch.GetTimestamp() : 0;

    /// <summary>Adds the time since <paramref name="start"/> (from <see cref="Start"/>) to the request's stage.</summary>
    public static void AddStage(HttpContext context, GatewayStage stage, long start)
    {
        if (start != 0) context.Features.Get<RequestTelemetryFeature>()?.AddStageTicks(stage, Stopwatch.GetTimestamp() - start);
    }

    /// <summary>The header value: one string, built on the stack.</summary>
    public static string Format(RequestTelemetryFeature feature, TimeSpan total)
    {
        Span<char> text = stackalloc char[256];
        int n = 0;
        long now = Stopwatch.GetTimestamp();
        for (int i = 0; i < Stages.Length; i++)
        {
            long ticks = feature.GetStageTicks(Stages[i]);
            if (Stages[i] == GatewayStage.Proxy) ticks += feature.ProxyInFlightTicks(now);
            if (ticks <= 0) continue;
            Append(text, ref n, Names[i], ticks * TimeSpan.TicksPerSecond / Stopwatch.Frequency);
        }
        Append(text, ref n, "total", total.Ticks);
        return new string(text[..n]);
    }

    private static void Append(Span<char> text, ref int n, string name, long timeSpanTicks)
    {
        if (n > 0) { text[n++] = ','; text[n++] = ' '; }
        name.AsSpan().CopyTo(text[n..]);
        n += name.Length;
        ";dur=".AsSpan().CopyTo(text[n..]);
        n += 5;
        n += ResponseTime.Format(TimeSpan.FromTicks(timeSpanTicks), text[n..]);
    }
}
