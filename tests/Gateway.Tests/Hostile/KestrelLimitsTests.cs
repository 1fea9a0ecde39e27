using Gateway.Tests.Support;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using TestInfrastructure;

namespace Gateway.Tests.Hostile;

/// <summary>
/// The limits in gateway/appsettings.gateway.json reach the running Kestrel (Kestrel reads its "Kestrel"
/// section only for endpoints, so GatewayApp binds the limits), and a command-line value overrides a single one.
/// </summary>
public sealed class KestrelLimitsTests
{
    [Fact]
    public async Task ShippedLimits_AreTheRunningKestrelLimits_AndOneCanBeOverridden()
    {
        await using var edge = await HostileGateway.StartWithRouteFileAsync(RouteFiles.ShippedPath,
            "--Kestrel:Limits:RequestHeadersTimeout=00:00:03", "--Kestrel:Limits:MinRequestBodyDataRate:GracePeriod=00:00:02",
            "--Kestrel:Limits:Http2:MaxStreamsPerConnection=50");

        var limits = edge.Gateway.Get<IOptions<KestrelServerOptions>>().Value.Limits;
        Assert.Equal(64, limits.MaxRequestHeaderCount);
        Assert.Equal(16384, limits.MaxRequestHeadersTotalSize);
        Assert.Equal(8192, limits.MaxRequestLineSize);
        Assert.Equal(1048576, limits.MaxRequestBodySize);
        Assert.Equal(TimeSpan.FromMinutes(2), limits.KeepAliveTimeout);
        // Overrides, so each value is one Kestrel would not have by default: binding is proven, not assumed.
        Assert.Equal(TimeSpan.FromSeconds(3), limits.RequestHeadersTimeout);
        Assert.Equal(TimeSpan.FromSeconds(2), limits.MinRequestBodyDataRate!.GracePeriod);
        Assert.Equal(50, limits.Http2.MaxStreamsPerConnection);
        Assert.Equal(240, limits.MinRequestBodyDataRate.BytesPerSecond);   // from the file, beside the overridden grace period
        Assert.Equal(240, limits.MinResponseDataRate!.BytesPerSecond);
        Assert.Equal(10000, limits.MaxConcurrentConnections);
        Assert.Equal(5000, limits.MaxConcurrentUpgradedConnections);
        Assert.Equal(16384, limits.Http2.MaxRequestHeaderFieldSize);
        Assert.Equal(4096, limits.Http2.HeaderTableSize);
        Assert.Equal(16384, limits.Http2.MaxFrameSize);
    }

    [Fact]
    public async Task TooManyHeaders_Are431_WithoutABackendCall()
    {
        await using var edge = await HostileGateway.StartWithRouteFileAsync(RouteFiles.ShippedPath);
        var headers = new System.Text.StringBuilder("GET /auth/login HTTP/1.1\r\nHost: x\r\n");
        for (int i = 0; i < 80; i++) headers.Append($"X-H{i}: v\r\n");

        var response = await RawHttp.SendAsync(edge.Port, headers.Append("\r\n").ToString());

        Assert.Equal(431, response.Status);
        Assert.DoesNotContain(edge.Backend.Requests, r => r.Path != "/health");
    }
}
