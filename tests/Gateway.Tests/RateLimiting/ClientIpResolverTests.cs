using System.Net;
using Gateway.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.RateLimiting;

public sealed class ClientIpResolverTests
{
    private static IPAddress? Resolve(string peer, string? forwardedFor, params string[] trusted)
    {
        var resolver = new ClientIpResolver(new TrustedProxies(Options.Create(new RateLimitingOptions { TrustedProxies = [.. trusted] })));
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(peer);
        if (forwardedFor is not null) context.Request.Headers["X-Forwarded-For"] = forwardedFor;
        return resolver.Resolve(context);
    }

    [Fact]
    public void UntrustedPeer_ForwardedForIsIgnored() =>
        Assert.Equal(IPAddress.Parse("198.51.100.7"), Resolve("198.51.100.7", "1.1.1.1", "10.0.0.0/8"));

    [Fact]
    public void TrustedPeer_RightmostUntrustedHopIsTheClient() =>
        Assert.Equal(IPAddress.Parse("203.0.113.9"), Resolve("10.0.0.2", "6.6.6.6, 203.0.113.9, 10.0.0.5", "10.0.0.0/8"));

    [Fact]
    public void TrustedPeerWithoutHeader_IsTheClient() =>
        Assert.Equal(IPAddress.Parse("10.0.0.2"), Resolve("10.0.0.2", null, "10.0.0.0/8"));

    [Fact]
    public void Ipv4MappedPeer_IsNormalisedBeforeTheTrustCheck() =>
        Assert.Equal(IPAddress.Parse("203.0.113.1"), Resolve("::ffff:127.0.0.1", "203.0.113.1", "127.0.0.1"));

    [Theory]
    [InlineData("203.0.113.9:51234", "203.0.113.9")]
    [InlineData("[2001:db8::5]:443", "2001:db8::5")]
    [InlineData("2001:db8::5", "2001:db8::5")]                       // a bare IPv6 address is not an address and a port
    [InlineData("6.6.6.6, 203.0.113.9:51234", "203.0.113.9")]
    public void TrustedPeer_AHopWrittenWithItsPort_IsTheClient_NotTheBalancer(string forwardedFor, string client) =>
        Assert.Equal(IPAddress.Parse(client), Resolve("10.0.0.2", forwardedFor, "10.0.0.0/8"));

    [Fact]
    public void TrustedPeer_AHopThatIsNoAddress_LeavesTheLastTrustedHop() =>
        Assert.Equal(IPAddress.Parse("10.0.0.2"), Resolve("10.0.0.2", "unknown", "10.0.0.0/8"));
}
