using System.Text.Json.Serialization;

namespace Gateway.Observability.Fleet;

/// <summary>
/// One instance's published statistics (wire format v1, short names: it is written every few seconds by every
/// instance). Windows <c>1m</c> and <c>15m</c>, each by tier, route class and cluster.
/// </summary>
internal sealed record FleetSummary(
    [property: JsonPropertyName("v")] int Version,
    [property: JsonPropertyName("id")] string InstanceId,
    [property: JsonPropertyName("at")] long PublishedAtUnixMs,
    [property: JsonPropertyName("w")] Dictionary<string, FleetWindow> Windows);

internal sealed record FleetWindow(
    [property: JsonPropertyName("t")] Dictionary<string, FleetSeries> Tiers,
    [property: JsonPropertyName("c")] Dictionary<string, FleetSeries> Classes,
    [property: JsonPropertyName("k")] Dictionary<string, FleetSeries> Clusters);

/// <summary>Counters of one series; <see cref="Histogram"/> holds non-empty <see cref="LatencyBuckets"/> as index, count pairs.</summary>
internal sealed record FleetSeries(
    [property: JsonPropertyName("n")] long Count,
    [property: JsonPropertyName("e")] long Errors,
    [property: JsonPropertyName("o")] long OverBudget,
    [property: JsonPropertyName("u")] long Unauthorized,
    [property: JsonPropertyName("r")] long RateLimited,
    [property: JsonPropertyName("s")] long Shed,
    [property: JsonPropertyName("h")] long[] Histogram);

[JsonSerializable(typeof(FleetSummary))]
internal sealed partial class FleetJsonContext : JsonSerializerContext;
