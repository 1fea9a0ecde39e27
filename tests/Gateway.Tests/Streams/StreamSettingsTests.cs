using Gateway.Streams;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Streams;

/// <summary>The Streams settings are refused at start with a message naming them, and stream detection on plain requests.</summary>
public sealed class StreamSettingsTests
{
    [Theory]
    [InlineData("--Streams:RevalidateInterval=00:00:00", "Streams:RevalidateInterval must be between")]
    [InlineData("--Streams:DrainTimeout=-00:00:01", "Streams:DrainTimeout must be between")]
    [InlineData("--Streams:DrainTimeout=00:00:30", "Streams:DrainTimeout (00:00:30) must be below HostOptions:ShutdownTimeout (00:00:30)")]
    [InlineData("--Gateway:H2cUrls=https://127.0.0.1:5443", "Gateway:H2cUrls holds 'https://127.0.0.1:5443', which is not an http:// URL with an explicit port")]
    [InlineData("--Gateway:H2cUrls=http://127.0.0.1", "Gateway:H2cUrls holds 'http://127.0.0.1', which is not an http:// URL with an explicit port")]
    public async Task ABadStreamsSetting_IsRefusedAtStart_NamingIt(string setting, string message)
    {
        var errors = await GatewayStartup.SettingErrorsAtStartAsync(setting);
        Assert.Contains(errors, e => e.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ADrainBelowARaisedShutdownTimeout_Starts()
    {
        Assert.Null(await GatewayStartup.FailureAsync("Development", "--Streams:DrainTimeout=00:00:45", "--shutdownTimeoutSeconds=60", $"--Admin:Url=http://127.0.0.1:{FreePort.Next()}"));
    }

    [Theory]
    [InlineData("POST", "application/grpc", null, "grpc")]
    [InlineData("POST", "application/grpc+proto", null, "grpc")]
    [InlineData("GET", null, "text/event-stream", "sse")]
    [InlineData("GET", null, "text/html, text/event-stream;q=0.9", "sse")]
    [InlineData("GET", null, "application/json", "none")]
    [InlineData("POST", "application/json", "*/*", "none")]
    [InlineData("CONNECT", null, null, "none")]   // a CONNECT that is not an extended CONNECT is no WebSocket
    public void Detect_TellsStreamsFromOrdinaryRequests(string method, string? contentType, string? accept, string expected)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        if (contentType is not null) context.Request.ContentType = contentType;
        if (accept is not null) context.Request.Headers.Accept = accept;
        Assert.Equal(expected, StreamDetector.Name(StreamDetector.Detect(context)));
    }
}
