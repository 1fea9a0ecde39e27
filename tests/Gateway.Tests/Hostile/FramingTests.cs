using Gateway.Tests.Support;
using TestInfrastructure;

namespace Gateway.Tests.Hostile;

/// <summary>
/// Malformed and ambiguous HTTP/1.1 framing sent as exact bytes to the real gateway: each is refused with a 4xx before
/// any backend call, and a smuggled second request never reaches the backend. Bare LF as a header line terminator is
/// not listed: RFC 9112 lets a server accept it, Kestrel does, and YARP re-serialises every forwarded request with
/// CRLF, so the backend cannot frame it differently.
/// </summary>
public sealed class FramingTests : IAsyncLifetime
{
    private HostileGateway _edge = null!;

    public async ValueTask InitializeAsync()
    {
        // An anonymous catch-all route to the recording backend, so a smuggled request would be forwarded if parsed.
        _edge = await HostileGateway.StartAsync(HostileGateway.OpenRoutes("hostile"));
    }

    public ValueTask DisposeAsync() => _edge.DisposeAsync();

    public static TheoryData<string, string> Smuggling() => new()
    {
        { "duplicate Content-Length", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 40\r\n\r\nhelloGET /a/smuggled HTTP/1.1\r\nHost: x\r\n\r\n" },
        { "obfuscated Transfer-Encoding", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\nGET /a/smuggled HTTP/1.1\r\nHost: x\r\n\r\n" },
        { "Transfer-Encoding with a tab trick", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\tchunked, identity\r\n\r\n0\r\n\r\nGET /a/smuggled HTTP/1.1\r\nHost: x\r\n\r\n" },
        { "bare LF in chunked framing", "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\nGET /a/smuggled HTTP/1.1\r\nHost: x\r\n\r\n" },
    };

    [Theory]
    [MemberData(nameof(Smuggling))]
    public async Task AmbiguousFraming_IsRefused_AndNothingSmuggledReachesTheBackend(string name, string raw)
    {
        var response = await RawHttp.SendAsync(_edge.Port, raw);

        Assert.True(response.Status == 400, $"{name}: expected 400, got {response.Status}: {Head(response.Text)}");
        Assert.True(response.ConnectionClosed, $"{name}: the connection must be closed after a framing error");
        Assert.Equal(1, response.ResponseCount);
        Assert.DoesNotContain(_edge.Backend.Requests, r => r.Path == "/a/smuggled");
        Assert.True(Proxied().Count <= 1, $"{name}: the backend saw {Proxied().Count} requests");
    }

    /// <summary>
    /// Kestrel resolves Content-Length + Transfer-Encoding as RFC 9112 §6.1 says: Transfer-Encoding wins, Content-Length
    /// is dropped, and the connection is closed after the response, so bytes after the chunked body are never parsed as
    /// a request. The backend receives one request framed one way (YARP re-serialises it). We cannot answer 400 here:
    /// Kestrel removes the Content-Length header before any middleware sees it (docs/decisions.md).
    /// </summary>
    [Fact]
    public async Task ContentLengthWithTransferEncoding_IsFramedByTransferEncoding_ConnectionClosed_NothingSmuggled()
    {
        var response = await RawHttp.SendAsync(_edge.Port,
            "POST /a/x HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /a/smuggled HTTP/1.1\r\nHost: x\r\n\r\n");

        Assert.True(response.ConnectionClosed);
        Assert.Equal(1, response.ResponseCount);
        Assert.DoesNotContain(_edge.Backend.Requests, r => r.Path == "/a/smuggled");
        var forwarded = Assert.Single(Proxied());
        Assert.Equal("", forwarded.Body);
        Assert.False(forwarded.Headers.ContainsKey("Content-Length") && forwarded.Headers.ContainsKey("Transfer-Encoding"));
    }

    [Fact]
    public async Task OversizedHeaders_Are431_WithoutABackendCall()
    {
        string big = new('a', 40_000);
        var response = await RawHttp.SendAsync(_edge.Port, $"GET /a HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\n\r\n");
        Assert.Equal(431, response.Status);
        Assert.Empty(Proxied());
    }

    [Fact]
    public async Task LongRequestLine_Is414_WithoutABackendCall()
    {
        string path = "/a/" + new string('p', 20_000);
        var response = await RawHttp.SendAsync(_edge.Port, $"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal(414, response.Status);
        Assert.Empty(Proxied());
    }

    [Fact]
    public async Task DeclaredBodyOverTheLimit_Is413_WithoutABackendCall()
    {
        var response = await RawHttp.SendAsync(_edge.Port, "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 900000000\r\n\r\n");
        Assert.Equal(413, response.Status);
        Assert.Empty(Proxied());
    }

    [Fact]
    public async Task ALegitimateRequestOnTheSameGateway_StillReachesTheBackend()
    {
        var response = await RawHttp.SendAsync(_edge.Port, "GET /a/fine HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.Equal(200, response.Status);
        Assert.Contains(_edge.Backend.Requests, r => r.Path == "/a/fine");
    }

    /// <summary>Requests the gateway forwarded (the readiness probe's GET /health is the gateway's own).</summary>
    private List<RecordedRequest> Proxied() => _edge.Backend.Requests.Where(r => r.Path != "/health").ToList();

    private static string Head(string text) => text.Length > 200 ? text[..200] : text;
}
