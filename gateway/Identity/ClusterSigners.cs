using Gateway.Trust;
using Microsoft.Extensions.Options;

namespace Gateway.Identity;

/// <summary>The active signing key of each cluster, built once from the validated <see cref="SigningOptions"/>.</summary>
internal sealed class ClusterSigners
{
    private readonly Dictionary<string, GatewaySignature> _active = new(StringComparer.Ordinal);

    public ClusterSigners(IOptions<SigningOptions> options)
    {
        foreach (var (cluster, configured) in options.Value.Clusters)
            if (configured.Keys.Count > 0) _active[cluster] = new GatewayKeyRing(configured.Keys).Active;
    }

    /// <summary>The key that signs requests to <paramref name="clusterId"/>, or null when it has none.</summary>
    public GatewaySignature? For(string? clusterId) =>
        clusterId is not null && _active.TryGetValue(clusterId, out var signer) ? signer : null;
}
