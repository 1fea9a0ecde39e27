namespace Gateway.Resilience;

/// <summary>
/// What the resilience handler needs to know about a cluster's destinations (implemented over YARP's health state by
/// <c>Gateway.Proxy.YarpClusterDestinations</c>): whether one failing destination is the cluster failing, and where a
/// refused request can go instead.
/// </summary>
internal interface IClusterDestinations
{
    /// <summary>Destinations of <paramref name="cluster"/> that YARP's health checks still send traffic to.</summary>
    int AvailableCount(string cluster);

    /// <summary>
    /// The URI of <paramref name="failed"/> moved to another available destination of the cluster that is not in
    /// <paramref name="tried"/>, or null when there is none. The path and query stay byte-identical, so the signature
    /// made for the first destination verifies at the next one (same cluster, same key).
    /// </summary>
    Uri? FailoverTarget(string cluster, Uri failed, List<Uri> tried);
}
