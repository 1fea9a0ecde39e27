using Backend.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Backend.Tests.Infrastructure;

/// <summary>
/// <c>Backend:H2cUrls</c>: the HTTP/2-only ports for the gateway, beside the ordinary listeners, with the stream limit that
/// caps the gateway's requests in flight over its one connection (docs/backend.md). The end-to-end use is
/// Gateway.Tests' BackendOverH2cTests; a bad value's exit is BackendStartupTests'.
/// </summary>
public sealed class GatewayH2cListenerTests
{
    private static (string? Urls, KestrelServerOptions Kestrel) Apply(params string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        GatewayH2cListener.Apply(builder);
        using var app = builder.Build();
        return (app.Urls.Count > 0 ? string.Join(';', app.Urls) : builder.WebHost.GetSetting("urls"), app.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value);
    }

    [Fact]
    public void H2cUrls_AreAddedToTheListeners_WithKestrelsStreamLimit()
    {
        var (urls, kestrel) = Apply("--urls=http://127.0.0.1:8090", "--Backend:H2cUrls=http://127.0.0.1:8091");

        Assert.Equal("http://127.0.0.1:8090;http://127.0.0.1:8091", urls);
        Assert.Equal(GatewayH2cListener.DefaultMaxStreams, kestrel.Limits.Http2.MaxStreamsPerConnection);
        Assert.Equal(100, GatewayH2cListener.DefaultMaxStreams);
    }

    [Fact]
    public void AConfiguredStreamLimit_Wins()
    {
        var (_, kestrel) = Apply("--urls=http://127.0.0.1:8090", "--Backend:H2cUrls=http://127.0.0.1:8091",
            "--Kestrel:Limits:Http2:MaxStreamsPerConnection=256");

        Assert.Equal(256, kestrel.Limits.Http2.MaxStreamsPerConnection);
    }

    [Fact]
    public void WithoutH2cUrls_TheListenersAndKestrelsDefaultsStay()
    {
        var (urls, kestrel) = Apply("--urls=http://127.0.0.1:8090");

        Assert.Equal("http://127.0.0.1:8090", urls);
        Assert.Equal(100, kestrel.Limits.Http2.MaxStreamsPerConnection);
    }

    [Theory]
    [InlineData("https://127.0.0.1:8091")]
    [InlineData("http://127.0.0.1")]
    [InlineData("127.0.0.1:8091")]
    public void ABadUrl_IsRefused_NamingTheSetting(string url)
    {
        var ex = Assert.Throws<OptionsValidationException>(() => Apply($"--Backend:H2cUrls={url}"));
        Assert.Contains($"Backend:H2cUrls holds '{url}', which is not an http:// URL with an explicit port", Assert.Single(ex.Failures));
    }

    [Fact]
    public void ABadStreamLimit_IsRefused_NamingTheSetting()
    {
        var ex = Assert.Throws<OptionsValidationException>(() => Apply("--Backend:H2cUrls=http://127.0.0.1:8091", "--Kestrel:Limits:Http2:MaxStreamsPerConnection=0"));
        Assert.Contains("Kestrel:Limits:Http2:MaxStreamsPerConnection is '0', which is not a positive whole number", Assert.Single(ex.Failures));
    }
}
