using System.Net;
using System.Net.Sockets;

namespace Gateway.Contracts;

/// <summary>
/// What a per-client limit counts: an IPv4 address, or the IPv6 network of the address's first <c>prefixLength</c> bits.
/// An IPv6 client is routinely given a whole /64 (RFC 6177; SLAAC and privacy addresses pick any of its 2^64 addresses),
/// so a limit per full address is one it can step around by changing address. Both sides count this way: the gateway's
/// <c>ip</c> rate limits, its load shedder's per-client share and invalid-token budget, and the backend's login throttle.
/// </summary>
public static class ClientNetworks
{
    /// <summary>The default prefix: the subnet an IPv6 site hands one interface.</summary>
    public const int DefaultIpv6PrefixLength = 64;

    /// <summary>The smallest prefix a setting may name: wider ones would put unrelated customers of one ISP together.</summary>
    public const int MinIpv6PrefixLength = 32;

    /// <summary>
    /// <paramref name="address"/> itself for IPv4 (or a prefix of 128), else a new address with the bits after the prefix
    /// cleared. IPv4-mapped IPv6 addresses (a dual-stack socket's IPv4 peers) are returned as IPv4.
    /// </summary>
    public static IPAddress NetworkOf(IPAddress address, int ipv6PrefixLength)
    {
        if (address.IsIPv4MappedToIPv6) return address.MapToIPv4();
        if (address.AddressFamily != AddressFamily.InterNetworkV6 || ipv6PrefixLength >= 128) return address;
        Span<byte> bytes = stackalloc byte[16];
        WriteNetwork(address, ipv6PrefixLength, bytes);
        return new IPAddress(bytes);
    }

    /// <summary>The IPv6 address's bytes with the bits after the prefix cleared.</summary>
    private static void WriteNetwork(IPAddress address, int prefixLength, Span<byte> bytes)
    {
        address.TryWriteBytes(bytes, out _);
        int bits = Math.Max(0, prefixLength), full = bits / 8;
        if (full < 16) bytes[full] &= (byte)(0xFF << (8 - bits % 8));
        bytes[Math.Min(16, full + 1)..].Clear();
    }

    /// <summary>
    /// A hash of <see cref="NetworkOf"/> without making it: the IPv4 address's own hash, or one of the IPv6 network's
    /// bits. For spreading clients over stripes on every request, where allocating the network each time would show.
    /// </summary>
    public static int HashOf(IPAddress address, int ipv6PrefixLength)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6 || address.IsIPv4MappedToIPv6 || ipv6PrefixLength >= 128)
            return NetworkOf(address, ipv6PrefixLength).GetHashCode();
        Span<byte> bytes = stackalloc byte[16];
        WriteNetwork(address, ipv6PrefixLength, bytes);
        return HashCode.Combine(BitConverter.ToUInt64(bytes), BitConverter.ToUInt64(bytes[8..]));
    }

    /// <summary>
    /// The counter key of <paramref name="address"/>: <c>203.0.113.9</c>, or <c>2001:db8:1:2::/64</c> for an IPv6 client
    /// (the prefix length is part of the key, so changing the setting never merges two shapes of key).
    /// </summary>
    public static string KeyOf(IPAddress address, int ipv6PrefixLength)
    {
        var network = NetworkOf(address, ipv6PrefixLength);
        return network.AddressFamily == AddressFamily.InterNetworkV6 && ipv6PrefixLength < 128
            ? string.Concat(network.ToString(), "/", ipv6PrefixLength.ToString(System.Globalization.CultureInfo.InvariantCulture))
            : network.ToString();
    }

    /// <summary><see cref="KeyOf(IPAddress, int)"/> of an address in text; text that is not an address is its own key.</summary>
    public static string KeyOf(string address, int ipv6PrefixLength) =>
        IPAddress.TryParse(address, out var parsed) ? KeyOf(parsed, ipv6PrefixLength) : address;
}
