using Gateway.Trust;
using Microsoft.Extensions.Options;

namespace Gateway.Identity;

/// <summary>
/// Start-up checks of <see cref="SigningOptions"/>: every problem at once, each naming the setting and the fix. Every
/// cluster of the route-class file needs a key; secrets must be strong, unique to their cluster, not the internal
/// secret, and outside Development not from the repository. Clusters added by a later reload are checked by
/// <see cref="IdentityTransformProvider"/>, which refuses the reload.
/// </summary>
/// <param name="clusters">The clusters of the route-class file loaded at start (not the route table: it needs the proxy
/// config, whose transforms need these options).</param>
internal sealed class SigningOptionsValidator(IHostEnvironment environment, IReadOnlyCollection<string> clusters, IConfiguration configuration)
    : IValidateOptions<SigningOptions>
{
    public ValidateOptionsResult Validate(string? name, SigningOptions options)
    {
        var errors = new List<string>();
        bool development = environment.IsDevelopment();
        foreach (var cluster in clusters)
            if (!options.Clusters.TryGetValue(cluster, out var configured) || configured.Keys.Count == 0)
                errors.Add($"Signing:Clusters:{cluster}:Keys is empty, but the route-class file has cluster '{cluster}'. Give it its own key: "
                    + $"Signing__Clusters__{cluster}__Keys__0__Id=k1 and Signing__Clusters__{cluster}__Keys__0__Secret from your secret store (make one with: {GatewaySecrets.HowToGenerate}).");

        string internalSecret = configuration["Trust:InternalSecret"] ?? "";
        var owners = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (cluster, configured) in options.Clusters)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (int i = 0; i < configured.Keys.Count; i++)
            {
                var key = configured.Keys[i];
                string setting = $"Signing:Clusters:{cluster}:Keys:{i}";
                if (!GatewaySigningKey.IsValidId(key.Id))
                    errors.Add($"{setting}:Id '{key.Id}' must be 1 to 64 characters of [A-Za-z0-9._-].");
                else if (!seen.Add(key.Id))
                    errors.Add($"{setting}:Id '{key.Id}' is configured twice for cluster '{cluster}'. Key ids must be unique within a cluster.");
                if (GatewaySecrets.Weakness(key.Secret, development) is { } weakness)
                    errors.Add($"{setting}:Secret (key '{key.Id}') {weakness}. Set Signing__Clusters__{cluster}__Keys__{i}__Secret from your secret store (make one with: {GatewaySecrets.HowToGenerate}).");
                if (key.Secret.Length == 0) continue;
                if (string.Equals(key.Secret, internalSecret, StringComparison.Ordinal))
                    errors.Add($"{setting}:Secret equals Trust:InternalSecret. They must differ: the cluster's team holds its signing key, only the gateway may call /internal/**.");
                // One team's key must not mint requests for another team's service.
                if (owners.TryGetValue(key.Secret, out var owner) && owner != cluster)
                    errors.Add($"{setting}:Secret is also a key of cluster '{owner}'. Each cluster needs its own secret.");
                owners.TryAdd(key.Secret, cluster);
            }
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
