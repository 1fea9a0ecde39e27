using System.ComponentModel.DataAnnotations;

namespace Gateway.Observability;

/// <summary>Configuration section <c>Observability</c>.</summary>
internal sealed class ObservabilityOptions
{
    public const string SectionName = "Observability";

    /// <summary>
    /// Budget per tier in milliseconds, used when a request's <c>GatewayRequestFeature.BudgetMs</c> is 0 and to show the
    /// budget line in <c>/gateway/stats</c>. The default value is ultra-fast 5, critical-auth 50, standard 200.
    /// </summary>
    public Dictionary<string, double> TierBudgetsMs { get; set; } = new(StringComparer.Ordinal)
    {
        ["ultra-fast"] = 5,
        ["critical-auth"] = 50,
        ["standard"] = 200,
    };

    /// <summary>Over-budget Warning lines allowed per tier per <see cref="OverBudgetLogWindowSeconds"/>. The default value is 5.</summary>
    [Range(0, 10_000)]
    public int OverBudgetLogsPerWindow { get; set; } = 5;

    /// <summary>The over-budget log rate-limit window in seconds. The default value is 10.</summary>
    [Range(1, 3600)]
    public int OverBudgetLogWindowSeconds { get; set; } = 10;

    /// <summary>
    /// Log lines about proxy failures (YARP forwarder errors) allowed per error kind per <see cref="ProxyErrorLogWindowSeconds"/>
    /// (per cluster for the backend's failures); the rest are counted on <c>gateway.proxy.errors</c> and summed up on the
    /// next line allowed. The default value is 5.
    /// </summary>
    [Range(0, 10_000)]
    public int ProxyErrorLogsPerWindow { get; set; } = 5;

    /// <summary>The proxy-failure log rate-limit window in seconds. The default value is 60.</summary>
    [Range(1, 3600)]
    public int ProxyErrorLogWindowSeconds { get; set; } = 60;

    /// <summary>The <c>Server-Timing</c> header; off by default (<see cref="ServerTimingOptions.Enabled"/>).</summary>
    public ServerTimingOptions ServerTiming { get; set; } = new();

    /// <summary>Meters exported on <c>/metrics</c>. The default value is <see cref="DefaultMeters"/>.</summary>
    public List<string>? Meters { get; set; }

    /// <summary>
    /// The gateway's own instruments, Kestrel's connection counts and the runtime's (read at scrape time). Not by default:
    /// <c>Microsoft.AspNetCore.Hosting</c> (<c>http.server.*</c>) and <c>System.Net.Http</c> (<c>http.client.*</c>), which
    /// repeat <c>gateway.request.duration</c> per request with six to eight tags each: listening to them cost every proxied
    /// request about 280 bytes and two more recordings (docs/performance.md). An operator who wants them lists them here.
    /// </summary>
    public static readonly string[] DefaultMeters = ["Gateway", "Microsoft.AspNetCore.Server.Kestrel", "System.Runtime"];
}
