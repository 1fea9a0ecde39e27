using System.Net;
using Gateway.Tests.Support;
using Gateway.Trust;
using TestInfrastructure;

namespace Gateway.Tests.Identity;

/// <summary>
/// Issue 14, parts 6 and 7, at the gateway: every proxied request is signed with its cluster's key (v2: query, key id
/// and client address included), anonymous ones too, and the client address is the one the trusted-proxy logic found.
/// A real gateway over real sockets; the recording backend checks signatures as a backend team's verifier would.
/// </summary>
public sealed class RequestSigningTests : IAsyncLifetime
{
    private RecordingBackend _backend = null!;
    private GatewayInstance _direct = null!;
    private GatewayInstance _behindBalancer = null!;

    public async ValueTask InitializeAsync()
    {
        _backend = await RecordingBackend.StartAsync();
        string routes = RouteFiles.WriteTemp("""
            { "version": "signing", "defaultClass": "open",
              "classes": { "open": { "tier": "standard", "budgetMs": 200, "auth": "anonymous", "timeoutMs": 5000 } },
              "routes": { "public": { "path": "/public/{**rest}", "class": "open", "cluster": "backend" } },
              "clusters": { "backend": { "address": "" } } }
            """);
        const string noRedis = "127.0.0.1:1,abortConnect=false";
        _direct = await GatewayInstance.StartAsync(_backend.BaseUrl, noRedis, routes);
        // The tests connect from 127.0.0.1: here that is the balancer in front of the gateway.
        _behindBalancer = await GatewayInstance.StartAsync(_backend.BaseUrl, noRedis, routes, null, "--RateLimiting:TrustedProxies:0=127.0.0.1");
    }

    public async ValueTask DisposeAsync()
    {
        await _behindBalancer.DisposeAsync();
        await _direct.DisposeAsync();
        await _backend.DisposeAsync();
    }

    private static bool Verifies(RecordedRequest r, string clientIp) =>
        GatewayInstance.Verifier.Verify(r.Method, r.Path, r.Query, long.Parse(r.Headers[IdentityHeaders.Timestamp]), clientIp,
            new SignedIdentity("", "", "", ""), r.Headers[IdentityHeaders.Signature]);

    private RecordedRequest Received(string path) => Assert.Single(_backend.Requests, r => r.Path == path);

    [Fact]
    public async Task AnonymousRequest_IsSignedWithTheClusterKeyAndThePeerAddress()
    {
        var response = await _direct.Client.GetAsync("/public/anonymous?x=1");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Received("/public/anonymous");
        Assert.Equal(GatewayInstance.SigningKeyId, received.Headers[IdentityHeaders.KeyId]);
        Assert.Equal("127.0.0.1", received.Headers[IdentityHeaders.ClientIp]);
        Assert.False(received.Headers.ContainsKey(IdentityHeaders.UserId));
        Assert.True(Verifies(received, "127.0.0.1"));
    }

    /// <summary>
    /// A cluster address with a path: the backend receives it in front of the request's path, and the signature is over
    /// the path as the backend receives it. Before 2026-12-06 the gateway signed the request's path alone, and every
    /// request to such a cluster failed verification.
    /// </summary>
    [Theory]
    [InlineData("/svc", "/public/x", "/svc/public/x")]
    [InlineData("/svc/", "/public/y?q=\"a\"", "/svc/public/y")]
    public async Task AClusterAddressWithAPath_IsSignedAsThePathTheBackendReceives(string addressPath, string target, string received)
    {
        string routes = RouteFiles.WriteTemp($$"""
            { "version": "signing-prefix", "defaultClass": "open",
              "classes": { "open": { "tier": "standard", "budgetMs": 200, "auth": "anonymous", "timeoutMs": 5000 } },
              "routes": { "public": { "path": "/public/{**rest}", "class": "open", "cluster": "backend" } },
              "clusters": { "backend": { "address": "{{_backend.BaseUrl.TrimEnd('/')}}{{addressPath}}" } } }
            """);
        await using var gateway = await GatewayInstance.StartAsync(_backend.BaseUrl, "127.0.0.1:1,abortConnect=false", routes);
        var raw = await RawHttp.SendAsync(new Uri(gateway.BaseUrl).Port, $"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.Equal(200, raw.Status);
        var request = Received(received);
        Assert.True(Verifies(request, "127.0.0.1"), $"signature over {request.Path}{request.Query}");
    }

    [Fact]
    public async Task ChangingTheQueryString_InvalidatesTheSignature()
    {
        await _direct.Client.GetAsync("/public/query?role=member&page=2");
        var received = Received("/public/query");
        Assert.True(Verifies(received, "127.0.0.1"));
        Assert.False(Verifies(received with { Query = "?role=owner&page=2" }, "127.0.0.1"));
        Assert.False(Verifies(received with { Query = "" }, "127.0.0.1"));
    }

    [Fact]
    public async Task QueryWithCharactersTheUriEscapes_IsSignedAsTheBackendReceivesIt()
    {
        // Raw bytes: HttpClient would escape these itself. System.Uri escapes a quote and braces on the way to the
        // backend, so the gateway must sign the escaped form, not what it received.
        var raw = await RawHttp.SendAsync(new Uri(_direct.BaseUrl).Port,
            "GET /public/raw-query?q=\"a\"&r={b}&s=%41 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.Equal(200, raw.Status);
        var received = Received("/public/raw-query");
        Assert.True(Verifies(received, "127.0.0.1"), $"signature over the query the backend received: {received.Query}");
    }

    [Fact]
    public async Task BehindATrustedBalancer_TheSignedClientAddressIsTheForwardedClient_NotTheBalancer()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/public/forwarded");
        request.Headers.Add("X-Forwarded-For", "198.51.100.7");
        Assert.Equal(HttpStatusCode.OK, (await _behindBalancer.Client.SendAsync(request)).StatusCode);
        var received = Received("/public/forwarded");
        Assert.Equal("198.51.100.7", received.Headers[IdentityHeaders.ClientIp]);
        Assert.EndsWith("127.0.0.1", received.Headers["X-Forwarded-For"]);   // the chain still names the balancer last
        Assert.True(Verifies(received, "198.51.100.7"));
    }

    [Fact]
    public async Task ClientSuppliedClientAddressOrKeyId_IsReplacedByTheGatewaysOwn()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/public/spoofed");
        request.Headers.Add(IdentityHeaders.ClientIp, "10.9.9.9");
        request.Headers.Add(IdentityHeaders.KeyId, "other-cluster");
        request.Headers.Add("X-Forwarded-For", "10.9.9.8");
        await _direct.Client.SendAsync(request);
        var received = Received("/public/spoofed");
        Assert.Equal("127.0.0.1", received.Headers[IdentityHeaders.ClientIp]);
        Assert.Equal(GatewayInstance.SigningKeyId, received.Headers[IdentityHeaders.KeyId]);
    }
}
