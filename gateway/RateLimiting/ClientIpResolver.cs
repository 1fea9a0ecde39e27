using System.Net;
using Microsoft.Extensions.Options;

namespace Gateway.RateLimiting;

/// <summary>
/// The client IP for rate limiting: the connection's peer, or — only when that peer is a configured trusted proxy —
/// the rightmost <c>X-Forwarded-For</c> address that is not itself a trusted proxy (entries left of it are client-controlled).
/// </summary>
internal sealed class ClientIpResolver
{
    private readonly IPNetwork[] _trusted;

    public ClientIpResolver(IOptions<RateLimitingOptions> options)
    {
        var trusted = new List<IPNetwork>();
        foreach (var entry in options.Value.TrustedProxies)
        {
            if (entry.Contains('/')) { trusted.Add(IPNetwork.Parse(entry)); continue; }
            var single = Normalize(IPAddress.Parse(entry));
            trusted.Add(new IPNetwork(single, single.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128));
        }
        _trusted = [.. trusted];
    }

    public IPAddress? Resolve(HttpContext context)
    {
        var peer = context.Connection.RemoteIpAddress;
        if (peer is null) return null;
        peer = Normalize(peer);
        if (_trusted.Length == 0 || !IsTrusted(peer)) return peer;

        var candidate = peer;
        var values = context.Request.Headers["X-Forwarded-For"];
        for (int v = values.Count - 1; v >= 0; v--)
        {
            var hops = (values[v] ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            for (int i = hops.Length - 1; i >= 0; i--)
            {
                if (!IPAddress.TryParse(hops[i], out var hop)) return candidate;
                candidate = Normalize(hop);
                if (!IsTrusted(candidate)) return candidate;
            }
        }
        return candidate;
    }

    private bool IsTrusted(IPAddress address)
    {
        foreach (var network in _trusted) if (network.Contains(address)) return true;
        return false;
    }

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
