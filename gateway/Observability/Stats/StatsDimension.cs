namespace Gateway.Observability;

/// <summary>What a series of <see cref="RollingStats"/> is keyed by.</summary>
internal enum StatsDimension
{
    /// <summary>The route class's tier (<c>ultra-fast</c>, <c>critical-auth</c>, <c>standard</c>).</summary>
    Tier,
    /// <summary>The route class name.</summary>
    RouteClass,
    /// <summary>The YARP cluster the request was proxied to; requests the gateway answered itself have none.</summary>
    Cluster,
}
