using System.Text.Json;

namespace Gateway.Routing.Validation;

/// <summary>The 'clusters' section: where each cluster's requests go.</summary>
internal static class ClustersValidator
{
    private static readonly string[] ClusterProps = ["address", "//"];

    public static Dictionary<string, ClusterDefinition> ParseClusters(JsonElement root, List<string> errors)
    {
        var result = new Dictionary<string, ClusterDefinition>(StringComparer.Ordinal);
        if (!ConfigJson.Section(root, "clusters", required: true, errors, out var section)) return result;
        foreach (var p in section.EnumerateObject())
        {
            string who = $"Cluster '{p.Name}'";
            if (!ConfigJson.IsObject(p.Value, who, errors)) continue;
            ConfigJson.UnknownProperties(p.Value, ClusterProps, who, errors);
            string address = ConfigJson.OptionalString(p.Value, "address", who, errors) ?? "";
            if (address.Length > 0 && (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https")))
                errors.Add($"{who} has address '{address}', which is not an absolute http(s) URL. Use e.g. \"http://127.0.0.1:8090\", or \"\" to use Backend:BaseUrl.");
            result[p.Name] = new ClusterDefinition(p.Name, address);
        }
        return result;
    }
}
