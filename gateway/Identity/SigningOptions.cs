using Gateway.Trust;

namespace Gateway.Identity;

/// <summary>
/// The keys the gateway signs proxied requests with, one set per route-file cluster, so that a team's key only mints
/// requests its own service accepts. Section <c>Signing</c>; validated at start-up by <see cref="SigningOptionsValidator"/>.
/// </summary>
internal sealed class SigningOptions
{
    public const string SectionName = "Signing";

    /// <summary>Keyed by the cluster id of the route-class file (<c>clusters</c>). Every cluster needs an entry.</summary>
    public Dictionary<string, SigningClusterOptions> Clusters { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>The keys of one cluster: <c>Signing:Clusters:&lt;clusterId&gt;:Keys</c>.</summary>
internal sealed class SigningClusterOptions
{
    /// <summary>
    /// <c>{ "id": "k2", "secret": "..." }</c> entries. The first one signs (its id goes out in <c>X-Gateway-Key-Id</c>);
    /// the others are not used by the gateway. Rotation: the cluster's service first accepts the new key beside the old
    /// one, then the new key is put first here, then the old key is removed from the service (trust/README.md).
    /// </summary>
    public List<GatewaySigningKey> Keys { get; set; } = [];
}
