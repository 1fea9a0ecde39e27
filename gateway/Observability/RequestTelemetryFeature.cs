using System.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace Gateway.Observability;

/// <summary>
/// Per-request telemetry state set by <see cref="RequestTelemetryMiddleware"/>: the start timestamp and how long each
/// <see cref="GatewayStage"/> took. One small object per request; stages add elapsed ticks through
/// <see cref="GatewayTracing.StartStage(HttpContext, GatewayStage)"/>.
/// </summary>
internal sealed class RequestTelemetryFeature
{
    internal const int StageCount = 5;
    private static readonly string[] StageNames = ["classify", "session.validate", "cache.lookup", "ratelimit", "proxy"];

    private long _classify, _validate, _cache, _rateLimit, _proxy;
    // Stopwatch timestamps of stages still running, kept only while Server-Timing measures (ServerTiming.Measuring): the
    // output cache's lookup has no scope of its own (policy hooks mark its start and end), and the proxy stage is still
    // running when the response starts and the header is written.
    private long _cacheStart, _proxyStart;

    internal RequestTelemetryFeature(HttpContext context, TimeProvider time)
    {
        Context = context;
        Time = time;
        StartTimestamp = time.GetTimestamp();
    }

    internal HttpContext Context { get; }
    internal TimeProvider Time { get; }

    /// <summary><see cref="TimeProvider.GetTimestamp"/> when the gateway started handling the request.</summary>
    public long StartTimestamp { get; }

    /// <summary>Adds elapsed Stopwatch ticks to a stage (a stage may run more than once, e.g. retries).</summary>
    public void AddStageTicks(GatewayStage stage, long ticks)
    {
        switch (stage)
        {
            case GatewayStage.Classify: _classify += ticks; break;
            case GatewayStage.ValidateSession: _validate += ticks; break;
            case GatewayStage.CacheLookup: _cache += ticks; break;
            case GatewayStage.RateLimit: _rateLimit += ticks; break;
            default: _proxy += ticks; _proxyStart = 0; break;
        }
    }

    /// <summary>The output cache began its lookup (Server-Timing only).</summary>
    internal void CacheLookupStarted(long timestamp) => _cacheStart = timestamp;

    /// <summary>The output cache answered from an entry, or passed the request on (a miss). Ends a pending lookup.</summary>
    internal void CacheLookupEnded(long timestamp)
    {
        if (_cacheStart == 0) return;
        _cache += timestamp - _cacheStart;
        _cacheStart = 0;
    }

    /// <summary>The proxy stage began; a cache lookup still pending was a miss and ends here (Server-Timing only).</summary>
    internal void ProxyStarted(long timestamp)
    {
        CacheLookupEnded(timestamp);
        _proxyStart = timestamp;
    }

    /// <summary>Ticks of a proxy stage still running at <paramref name="now"/>, else 0.</summary>
    internal long ProxyInFlightTicks(long now) => _proxyStart == 0 ? 0 : now - _proxyStart;

    public long GetStageTicks(GatewayStage stage) => stage switch
    {
        GatewayStage.Classify => _classify,
        GatewayStage.ValidateSession => _validate,
        GatewayStage.CacheLookup => _cache,
        GatewayStage.RateLimit => _rateLimit,
        _ => _proxy,
    };

    /// <summary>The stage that took longest, or <c>none</c> when no stage was timed.</summary>
    public (string Name, double Milliseconds) LongestStage()
    {
        long best = 0;
        int bestIndex = -1;
        for (int i = 0; i < StageCount; i++)
        {
            long ticks = GetStageTicks((GatewayStage)i);
            if (ticks > best) { best = ticks; bestIndex = i; }
        }
        return bestIndex < 0 ? ("none", 0) : (StageNames[bestIndex], best * 1000.0 / Stopwatch.Frequency);
    }
}
