using Gateway.Resilience;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace Gateway.Proxy;

/// <summary>
/// Cluster destinations as YARP's load balancer sees them: <see cref="ClusterDestinationsState.AvailableDestinations"/>
/// is what active and passive health checks left in rotation. Read only on failures, never per successful request.
/// </summary>
internal sealed class YarpClusterDestinations(IServiceProvider services) : IClusterDestinations
{
    // Resolved on first use: YARP's state lookup depends on the forwarder client factory, which depends on the
    // resilience pipelines that read this.
    private IProxyStateLookup? _lookup;

    private IProxyStateLookup Lookup => _lookup ??= services.GetRequiredService<IProxyStateLookup>();

    public int AvailableCount(string cluster) =>
        Lookup.TryGetCluster(cluster, out var state) ? state.DestinationsState.AvailableDestinations.Count : 0;

    public Uri? FailoverTarget(string cluster, Uri failed, List<Uri> tried)
    {
        if (!Lookup.TryGetCluster(cluster, out var state)) return null;
        var destinations = state.DestinationsState;
        string original = failed.OriginalString;
        string? failedPrefix = null;
        foreach (var d in destinations.AllDestinations)
        {
            string prefix = d.Model.Config.Address.TrimEnd('/');
            if (original.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)
                && (original.Length == prefix.Length || original[prefix.Length] is '/' or '?'))
            {
                failedPrefix = prefix;
                break;
            }
        }
        if (failedPrefix is null) return null;

        // The least busy other destination: the one most likely to answer now.
        DestinationState? best = null;
        foreach (var d in destinations.AvailableDestinations)
        {
            string prefix = d.Model.Config.Address.TrimEnd('/');
            if (string.Equals(prefix, failedPrefix, StringComparison.OrdinalIgnoreCase) || WasTried(tried, prefix)) continue;
            if (best is null || d.ConcurrentRequestCount < best.ConcurrentRequestCount) best = d;
        }
        return best is null ? null : new Uri(best.Model.Config.Address.TrimEnd('/') + original[failedPrefix.Length..], UriKind.Absolute);
    }

    private static bool WasTried(List<Uri> tried, string prefix)
    {
        foreach (var uri in tried)
            if (uri.OriginalString.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }
}
