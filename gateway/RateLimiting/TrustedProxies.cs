using System.Net;
using Microsoft.Extensions.Options;

namespace Gateway.RateLimiting;

/// <summary>
/// The peers configured in <see cref="RateLimitingOptions.TrustedProxies"/>: the one list that decides both whose
/// <c>X-Forwarded-For</c> the rate limiter believes and whose forwarded headers reach the backend.
/// </summary>
internal sealed class TrustedProxies
{
    private readonly IPNetwork[] _networks;

    public TrustedProxies(IOptions<RateLimitingOptions> options)
    {
        var networks = new List<IPNetwork>();
        foreach (var entry in options.Value.TrustedProxies)
        {
            if (entry.Contains('/')) { networks.Add(IPNetwork.Parse(entry)); continue; }
            var single = Normalize(IPAddress.Parse(entry));
            networks.Add(new IPNetwork(single, single.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128));
        }
        _networks = [.. networks];
    }

    public bool IsEmpty => _networks.Length == 0;

    public bool IsTrusted(IPAddress? address)
    {
        if (address is null) return false;
        address = Normalize(address);
        foreach (var network in _networks) if (network.Contains(address)) return true;
        return false;
    }

    /// <summary>IPv4 peers on a dual-stack socket arrive as ::ffff:a.b.c.d; configuration names them as a.b.c.d.</summary>
    public static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
