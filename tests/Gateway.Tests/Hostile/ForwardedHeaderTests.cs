using Gateway.Tests.Support;
using TestInfrastructure;

namespace Gateway.Tests.Hostile;

/// <summary>
/// Forwarded headers over real sockets: from an untrusted peer every client-supplied one is dropped and the backend
/// gets what the gateway saw; from a peer in RateLimiting:TrustedProxies they are kept and the chain is appended to.
/// The tests connect from 127.0.0.1, so "trusted" is a gateway that lists 127.0.0.1.
/// </summary>
public sealed class ForwardedHeaderTests : IAsyncLifetime
{
    private static readonly string[] Spoofable =
    [
        "Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Forwarded-Prefix", "X-Real-IP",
        "X-Original-URL", "X-Rewrite-URL", "X-Original-Method", "X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override",
        // Any X-Forwarded-* (these reached backends until 2026-12-06: Rack and Rails read the scheme from the first two).
        "X-Forwarded-Ssl", "X-Forwarded-Scheme", "X-Forwarded-Port", "X-Forwarded-Server", "x-forwarded-anything",
        "X-Client-IP", "X-Cluster-Client-IP", "X-Url-Scheme", "X-Scheme", "Front-End-Https",
    ];

    private RecordingBackend _backend = null!;
    private GatewayInstance _untrusted = null!;
    private GatewayInstance _trusted = null!;

    public async ValueTask InitializeAsync()
    {
        _backend = await RecordingBackend.StartAsync();
        string routes = RouteFiles.WriteTemp("""
            { "version": "forwarded", "defaultClass": "open",
              "classes": { "open": { "tier": "standard", "budgetMs": 200, "auth": "anonymous", "timeoutMs": 5000 } },
              "routes": { "public": { "path": "/public/{**rest}", "class": "open", "cluster": "backend" } },
              "clusters": { "backend": { "address": "" } } }
            """);
        // A trusted-proxy list that does not contain the test's address: the list is consulted, the peer is not on it.
        _untrusted = await GatewayInstance.StartAsync(_backend.BaseUrl, HostileGateway.NoRedis, routes, null, "--RateLimiting:TrustedProxies:0=10.0.0.0/8");
        _trusted = await GatewayInstance.StartAsync(_backend.BaseUrl, HostileGateway.NoRedis, routes, null, "--RateLimiting:TrustedProxies:0=127.0.0.1");
    }

    public async ValueTask DisposeAsync()
    {
        await _trusted.DisposeAsync();
        await _untrusted.DisposeAsync();
        await _backend.DisposeAsync();
    }

    [Fact]
    public async Task UntrustedPeer_SpoofedForwardedHeaders_NeverReachTheBackend_GatewayValuesDo()
    {
        var received = await SendAsync(_untrusted, "/public/untrusted", request =>
        {
            foreach (var name in Spoofable) request.Headers.TryAddWithoutValidation(name, "spoofed");
            request.Headers.TryAddWithoutValidation("X-Forwarded-For", "6.6.6.6");
        });

        foreach (var (name, value) in received.Headers)
            Assert.False(value.Contains("spoofed") || value.Contains("6.6.6.6"), $"{name}: {value} reached the backend");
        foreach (var name in Spoofable.Except(["X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host"]))
            Assert.False(received.Headers.ContainsKey(name), name);
        Assert.Equal("127.0.0.1", received.Headers["X-Forwarded-For"]);
        Assert.Equal("http", received.Headers["X-Forwarded-Proto"]);
        Assert.Equal(new Uri(_untrusted.BaseUrl).Authority, received.Headers["X-Forwarded-Host"]);
    }

    [Fact]
    public async Task UnderscoreSpellings_AreDropped_EvenFromATrustedPeer()
    {
        var received = await SendAsync(_trusted, "/public/underscores", request =>
        {
            request.Headers.TryAddWithoutValidation("X_Forwarded_For", "6.6.6.6");
            request.Headers.TryAddWithoutValidation("x_real_ip", "6.6.6.6");
            request.Headers.TryAddWithoutValidation("X_Original_URL", "/auth/me");
            request.Headers.TryAddWithoutValidation("X_Forwarded_Port", "6.6.6.6");
        });

        foreach (var (name, value) in received.Headers)
            Assert.False(value.Contains("6.6.6.6") || value.Contains("/auth/me"), $"{name}: {value} reached the backend");
        Assert.Equal("127.0.0.1", received.Headers["X-Forwarded-For"]);
    }

    [Fact]
    public async Task TrustedPeer_ForwardedForIsAppendedTo_ProtoAndHostKept_UrlOverridesStillDropped()
    {
        var received = await SendAsync(_trusted, "/public/trusted", request =>
        {
            request.Headers.TryAddWithoutValidation("X-Forwarded-For", "203.0.113.9, 198.51.100.2");
            request.Headers.TryAddWithoutValidation("X-Forwarded-Proto", "https");
            request.Headers.TryAddWithoutValidation("X-Forwarded-Host", "app.example.com");
            request.Headers.TryAddWithoutValidation("X-Real-IP", "203.0.113.9");
            request.Headers.TryAddWithoutValidation("X-Original-URL", "/auth/me");
            request.Headers.TryAddWithoutValidation("X-Rewrite-URL", "/auth/me");
            request.Headers.TryAddWithoutValidation("X-Forwarded-Port", "443");
        });

        Assert.Equal("203.0.113.9, 198.51.100.2, 127.0.0.1", received.Headers["X-Forwarded-For"]);
        Assert.Equal("https", received.Headers["X-Forwarded-Proto"]);
        Assert.Equal("app.example.com", received.Headers["X-Forwarded-Host"]);
        Assert.Equal("203.0.113.9", received.Headers["X-Real-IP"]);
        Assert.Equal("443", received.Headers["X-Forwarded-Port"]);   // a proxy's other X-Forwarded-* pass from a trusted peer
        Assert.False(received.Headers.ContainsKey("X-Original-URL"));
        Assert.False(received.Headers.ContainsKey("X-Rewrite-URL"));
    }

    [Fact]
    public async Task TrustedPeer_WithoutForwardedHeaders_GetsTheGatewayValues()
    {
        var received = await SendAsync(_trusted, "/public/trusted-bare", _ => { });

        Assert.Equal("127.0.0.1", received.Headers["X-Forwarded-For"]);
        Assert.Equal("http", received.Headers["X-Forwarded-Proto"]);
        Assert.Equal(new Uri(_trusted.BaseUrl).Authority, received.Headers["X-Forwarded-Host"]);
    }

    private async Task<RecordedRequest> SendAsync(GatewayInstance gateway, string path, Action<HttpRequestMessage> addHeaders)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        addHeaders(request);
        var response = await gateway.Client.SendAsync(request);
        Assert.Equal(200, (int)response.StatusCode);
        return Assert.Single(_backend.Requests, r => r.Path == path);
    }
}
