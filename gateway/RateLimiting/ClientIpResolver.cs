using System.Net;
using Gateway.Contracts;
using Gateway.Pipeline;
using Microsoft.Extensions.Options;

namespace Gateway.RateLimiting;

/// <summary>
/// The client IP for rate limiting: the connection's peer, or — only when that peer is a configured trusted proxy —
/// the rightmost <c>X-Forwarded-For</c> address that is not itself a trusted proxy (entries left of it are client-controlled;
/// an entry with a port counts as its address).
/// Per-client limits count its <see cref="PartitionKey"/>: IPv6 clients per network (<see cref="RateLimitingOptions.Ipv6PrefixLength"/>).
/// </summary>
internal sealed class ClientIpResolver(TrustedProxies trusted, IOptions<RateLimitingOptions>? options = null)
{
    private readonly int _ipv6PrefixLength = options?.Value.Ipv6PrefixLength ?? ClientNetworks.DefaultIpv6PrefixLength;

    /// <summary>
    /// What per-client limits count for this request (<see cref="ClientNetworks.KeyOf(IPAddress, int)"/>), null when the
    /// request has no client address. Once per request: an IPv4 address keeps its text, an IPv6 network is made here.
    /// </summary>
    public string? PartitionKey(HttpContext context)
    {
        var feature = GatewayRequestFeature.Of(context);
        if (feature?.ClientNetworkKey is { } cached) return cached;
        var client = Resolve(context, feature);
        if (client is null) return null;
        var key = ClientNetworks.KeyOf(client, _ipv6PrefixLength);
        if (feature is not null) feature.ClientNetworkKey = key;
        return key;
    }

    /// <summary>A hash of the request's client network (<see cref="ClientNetworks.HashOf"/>), 0 without an address; allocates nothing.</summary>
    public int NetworkHash(HttpContext context) => Resolve(context) is { } client ? ClientNetworks.HashOf(client, _ipv6PrefixLength) : 0;

    /// <summary>The request's client address; resolved once per request and kept on <see cref="GatewayRequestFeature"/>.</summary>
    public IPAddress? Resolve(HttpContext context) => Resolve(context, GatewayRequestFeature.Of(context));

    private IPAddress? Resolve(HttpContext context, GatewayRequestFeature? feature)
    {
        if (feature is { ClientIpResolved: true }) return feature.ClientIp;
        var client = ResolveUncached(context);
        if (feature is not null) { feature.ClientIp = client; feature.ClientIpResolved = true; }
        return client;
    }

    private IPAddress? ResolveUncached(HttpContext context)
    {
        var peer = context.Connection.RemoteIpAddress;
        if (peer is null) return null;
        peer = TrustedProxies.Normalize(peer);
        if (trusted.IsEmpty || !trusted.IsTrusted(peer)) return peer;

        var candidate = peer;
        var values = context.Request.Headers["X-Forwarded-For"];
        for (int v = values.Count - 1; v >= 0; v--)
        {
            var hops = (values[v] ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            for (int i = hops.Length - 1; i >= 0; i--)
            {
                if (!TryParseHop(hops[i], out var hop)) return candidate;
                candidate = TrustedProxies.Normalize(hop);
                if (!trusted.IsTrusted(candidate)) return candidate;
            }
        }
        return candidate;
    }

    /// <summary>
    /// An address, or an IPv4 address with its port (<c>203.0.113.9:51234</c>), as some balancers write it (Azure
    /// Application Gateway does). Read as "not an address", every client behind such a balancer was counted as the
    /// balancer, so one client spent the limits of all. <c>[2001:db8::5]:443</c> already parses as its address, and a
    /// bare IPv6 address as itself, never as an address and a port; ASP.NET Core's forwarded-headers middleware accepts
    /// the same forms.
    /// </summary>
    private static bool TryParseHop(string hop, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IPAddress? address)
    {
        if (IPAddress.TryParse(hop, out address)) return true;
        if (IPEndPoint.TryParse(hop, out var endpoint)) { address = endpoint.Address; return true; }
        return false;
    }
}
