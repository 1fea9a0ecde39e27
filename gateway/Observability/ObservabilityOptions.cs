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

    /// <summary>The <c>Server-Timing</c> header; off by default (<see cref="ServerTimingOptions.Enabled"/>).</summary>
    public ServerTimingOptions ServerTiming { get; set; } = new();

    /// <summary>Meters exported on <c>/metrics</c>. The default value is Gateway, Backend, ASP.NET Core hosting, Kestrel, System.Net.Http, Npgsql, System.Runtime.</summary>
    public List<string>? Meters { get; set; }
}
