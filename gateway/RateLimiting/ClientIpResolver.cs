using System.Net;
using Gateway.Pipeline;

namespace Gateway.RateLimiting;

/// <summary>
/// The client IP for rate limiting: the connection's peer, or — only when that peer is a configured trusted proxy —
/// the rightmost <c>X-Forwarded-For</c> address that is not itself a trusted proxy (entries left of it are client-controlled).
/// </summary>
internal sealed class ClientIpResolver(TrustedProxies trusted)
{
    /// <summary>The request's client address; resolved once per request and kept on <see cref="GatewayRequestFeature"/>.</summary>
    public IPAddress? Resolve(HttpContext context)
    {
        var feature = GatewayRequestFeature.Of(context);
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
                if (!IPAddress.TryParse(hops[i], out var hop)) return candidate;
                candidate = TrustedProxies.Normalize(hop);
                if (!trusted.IsTrusted(candidate)) return candidate;
            }
        }
        return candidate;
    }
}
