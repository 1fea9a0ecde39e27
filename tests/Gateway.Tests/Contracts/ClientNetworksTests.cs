using System.Net;
using Gateway.Contracts;

namespace Gateway.Tests.Contracts;

/// <summary>What per-client limits count, on both sides: an IPv4 address, or an IPv6 client's network.</summary>
public sealed class ClientNetworksTests
{
    [Theory]
    [InlineData("203.0.113.9", 64, "203.0.113.9")]
    [InlineData("::ffff:203.0.113.9", 64, "203.0.113.9")]                           // a dual-stack socket's IPv4 peer
    [InlineData("2001:db8:1:2:aaaa:bbbb:cccc:dddd", 64, "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2::1", 64, "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2:aaaa:bbbb:cccc:dddd", 56, "2001:db8:1::/56")]
    [InlineData("2001:db8:1:2ff:aaaa::1", 60, "2001:db8:1:2f0::/60")]              // a prefix inside a byte
    [InlineData("2001:db8:1:2:aaaa:bbbb:cccc:dddd", 128, "2001:db8:1:2:aaaa:bbbb:cccc:dddd")]
    public void KeyOf_CountsAnIpv6ClientByItsNetwork(string address, int prefix, string expected)
    {
        Assert.Equal(expected, ClientNetworks.KeyOf(IPAddress.Parse(address), prefix));
        Assert.Equal(expected, ClientNetworks.KeyOf(address, prefix));
    }

    [Fact]
    public void KeyOf_TextThatIsNotAnAddress_IsItsOwnKey() => Assert.Equal("unknown", ClientNetworks.KeyOf("unknown", 64));

    [Fact]
    public void NetworkOf_LeavesTheAddressItWasGiven()
    {
        var address = IPAddress.Parse("2001:db8:1:2::7");
        Assert.Equal(IPAddress.Parse("2001:db8:1:2::"), ClientNetworks.NetworkOf(address, 64));
        Assert.Equal(IPAddress.Parse("2001:db8:1:2::7"), address);
        var v4 = IPAddress.Parse("198.51.100.1");
        Assert.Same(v4, ClientNetworks.NetworkOf(v4, 64));
    }
}
