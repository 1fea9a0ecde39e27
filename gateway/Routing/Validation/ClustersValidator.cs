using System.Text.Json;

namespace Gateway.Routing.Validation;

/// <summary>
/// The 'clusters' section: where each cluster's requests go (one <c>address</c>, or several <c>destinations</c>), how
/// they are balanced and how destinations are health-checked. Each value maps onto YARP's own cluster configuration.
/// </summary>
internal static class ClustersValidator
{
    private static readonly string[] ClusterProps = ["address", "destinations", "loadBalancing", "healthCheck", "protocol", "idleTimeoutSeconds", "//"];
    private static readonly string[] HealthProps = ["active", "passive", "//"];
    private static readonly string[] ActiveProps = ["path", "intervalSeconds", "timeoutSeconds", "//"];

    public static Dictionary<string, ClusterDefinition> ParseClusters(JsonElement root, List<string> errors)
    {
        var result = new Dictionary<string, ClusterDefinition>(StringComparer.Ordinal);
        if (!ConfigJson.Section(root, "clusters", required: true, errors, out var section)) return result;
        foreach (var p in section.EnumerateObject())
        {
            if (p.NameEquals("//")) continue;
            string who = $"Cluster '{p.Name}'";
            if (!ConfigJson.IsObject(p.Value, who, errors)) continue;
            ConfigJson.UnknownProperties(p.Value, ClusterProps, who, errors);

            var destinations = Destinations(p.Value, who, errors);
            string loadBalancing = ConfigJson.OptionalString(p.Value, "loadBalancing", who, errors) ?? ClusterDefinition.DefaultLoadBalancing;
            if (Array.IndexOf(ClusterDefinition.LoadBalancingPolicies, loadBalancing) < 0)
                errors.Add($"{who} has unknown 'loadBalancing' '{loadBalancing}'. Use one of YARP's policies: {string.Join(", ", ClusterDefinition.LoadBalancingPolicies)} (default PowerOfTwoChoices).");
            var (active, passive) = HealthCheck(p.Value, who, errors);
            string protocol = Protocol(p.Value, destinations, who, errors);
            double? idle = ConfigJson.PositiveNumber(p.Value, "idleTimeoutSeconds", who, errors, required: false);
            if (idle > ClusterDefinition.MaxIdleTimeoutSeconds)
                errors.Add($"{who} has 'idleTimeoutSeconds' {idle} above {ClusterDefinition.MaxIdleTimeoutSeconds} (a day). Streams should send heartbeats well within the idle timeout; use e.g. 300.");
            result[p.Name] = new ClusterDefinition(p.Name, destinations, loadBalancing, active, passive, protocol, idle);
        }
        return result;
    }

    private static Dictionary<string, string> Destinations(JsonElement cluster, string who, List<string> errors)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        bool hasAddress = cluster.TryGetProperty("address", out _);
        if (!cluster.TryGetProperty("destinations", out var d))
        {
            // The one-destination shorthand; "" (or no address at all) means Backend:BaseUrl.
            string address = ConfigJson.OptionalString(cluster, "address", who, errors) ?? "";
            if (address.Length > 0 && !IsHttpUrl(address))
                errors.Add($"{who} has address '{address}', which is not an absolute http(s) URL. Use e.g. \"http://127.0.0.1:8090\", or \"\" to use Backend:BaseUrl.");
            result[ClusterDefinition.ShorthandDestination] = address;
            return result;
        }
        if (hasAddress)
            errors.Add($"{who} has both 'address' and 'destinations'. Keep one: 'address' is the shorthand for a single destination; move it into 'destinations' (e.g. \"a\": \"http://10.0.0.5:8080\").");
        if (d.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"{who} has 'destinations' that is not an object. Use e.g. {{ \"a\": \"http://10.0.0.5:8080\", \"b\": \"http://10.0.0.6:8080\" }}.");
            return result;
        }
        foreach (var dest in d.EnumerateObject())
        {
            if (dest.NameEquals("//")) continue;
            string? url = dest.Value.ValueKind == JsonValueKind.String ? dest.Value.GetString() : null;
            if (string.IsNullOrWhiteSpace(dest.Name))
                errors.Add($"{who} has a destination with an empty name. Name each destination, e.g. \"a\".");
            else if (url is null || !IsHttpUrl(url))
                errors.Add($"{who} has destination '{dest.Name}' = {dest.Value.GetRawText()}, which is not an absolute http(s) URL. Use e.g. \"http://10.0.0.5:8080\".");
            else result[dest.Name] = url;
        }
        if (result.Count == 0 && !d.EnumerateObject().Any(x => !x.NameEquals("//")))
            errors.Add($"{who} has no destinations. Add at least one under 'destinations', e.g. \"a\": \"http://10.0.0.5:8080\", or use 'address'.");
        return result;
    }

    /// <summary>
    /// <c>protocol</c>: <c>h2c</c> speaks HTTP/2 without TLS, so it only makes sense for <c>http://</c> destinations (an
    /// <c>https://</c> one negotiates HTTP/2 by ALPN under <c>auto</c>).
    /// </summary>
    private static string Protocol(JsonElement cluster, Dictionary<string, string> destinations, string who, List<string> errors)
    {
        string protocol = ConfigJson.OptionalString(cluster, "protocol", who, errors) ?? ClusterDefinition.ProtocolAuto;
        if (Array.IndexOf(ClusterDefinition.Protocols, protocol) < 0)
        {
            errors.Add($"{who} has unknown 'protocol' '{protocol}'. Use \"auto\" (default: HTTP/1.1, or HTTP/2 by ALPN over https) or \"h2c\" (HTTP/2 without TLS, e.g. for a cleartext gRPC service).");
            return ClusterDefinition.ProtocolAuto;
        }
        if (protocol == ClusterDefinition.ProtocolH2c)
            foreach (var (id, url) in destinations)
                if (url.StartsWith("https:", StringComparison.OrdinalIgnoreCase))
                    errors.Add($"{who} has 'protocol' \"h2c\" but destination '{id}' is https ({url}). h2c is HTTP/2 without TLS: use an http:// address, or \"auto\" to negotiate HTTP/2 over TLS.");
        return protocol;
    }

    private static (ActiveHealthCheck? Active, bool Passive) HealthCheck(JsonElement cluster, string who, List<string> errors)
    {
        if (!cluster.TryGetProperty("healthCheck", out var h)) return (null, false);
        if (!ConfigJson.IsObject(h, $"{who} 'healthCheck'", errors)) return (null, false);
        ConfigJson.UnknownProperties(h, HealthProps, $"{who} 'healthCheck'", errors);

        bool passive = false;
        if (h.TryGetProperty("passive", out var pv))
        {
            if (pv.ValueKind is JsonValueKind.True or JsonValueKind.False) passive = pv.GetBoolean();
            else errors.Add($"{who} has 'healthCheck.passive' {pv.GetRawText()}, which is not true or false. Use true to let failed proxied requests mark a destination unhealthy.");
        }

        if (!h.TryGetProperty("active", out var a)) return (null, passive);
        string whoActive = $"{who} 'healthCheck.active'";
        if (!ConfigJson.IsObject(a, whoActive, errors)) return (null, passive);
        ConfigJson.UnknownProperties(a, ActiveProps, whoActive, errors);
        string? path = ConfigJson.RequiredString(a, "path", whoActive, errors, "Set 'path' to the destinations' health endpoint, e.g. \"/health\".");
        if (path is not null && (!path.StartsWith('/') || path.AsSpan().IndexOfAny("?# \t") >= 0))
            errors.Add($"{whoActive} has path '{path}', which is not a plain path. Use a path starting with '/', without query or whitespace, e.g. \"/health\".");
        double? interval = ConfigJson.Seconds(a, "intervalSeconds", whoActive, errors, required: true);
        double? timeout = ConfigJson.Seconds(a, "timeoutSeconds", whoActive, errors, required: true);
        if (interval is { } i && timeout is { } t && t >= i)
            errors.Add($"{whoActive} has 'timeoutSeconds' {t} not below 'intervalSeconds' {i}. A probe must end before the next starts: lower the timeout or raise the interval.");
        return path is not null && interval is not null && timeout is not null ? (new ActiveHealthCheck(path, interval.Value, timeout.Value), passive) : (null, passive);
    }

    private static bool IsHttpUrl(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == "http" || uri.Scheme == "https")
        && string.IsNullOrEmpty(uri.Query) && string.IsNullOrEmpty(uri.Fragment);
}
