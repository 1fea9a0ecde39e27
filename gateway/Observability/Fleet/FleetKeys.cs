namespace Gateway.Observability.Fleet;

/// <summary>
/// The fleet's Redis keys (docs/contracts.md). Gateway-only: the backend never reads them. The hash tag <c>{stats}</c>
/// keeps the index and every summary in one Redis Cluster slot, so one script can read them all; the load is one
/// small write per instance per interval.
/// </summary>
internal static class FleetKeys
{
    /// <summary>Sorted set: member = instance id, score = last publish time (Unix ms). Pruned of members silent for <see cref="IndexRetention"/>.</summary>
    public const string Index = "gw:v1:{stats}:instances";

    /// <summary>String, the instance's compact JSON summary; expires after three publish intervals.</summary>
    public static string Summary(string instanceId) => "gw:v1:{stats}:instance:" + instanceId;

    /// <summary>How long an instance that stopped reporting stays listed (as gone) before it is dropped from the index.</summary>
    public static readonly TimeSpan IndexRetention = TimeSpan.FromMinutes(10);

    /// <summary>At most this many instances are read; a fleet bigger than this shows the most recently reporting ones.</summary>
    public const int MaxInstances = 64;
}
