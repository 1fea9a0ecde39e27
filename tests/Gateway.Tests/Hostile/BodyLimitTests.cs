using System.Text;
using System.Text.Json.Nodes;
using Gateway.Routing;
using Gateway.Tests.Support;
using TestInfrastructure;

namespace Gateway.Tests.Hostile;

/// <summary>
/// A route class's <c>maxBodyBytes</c>: a declared Content-Length over it is 413 before any backend call, a chunked
/// body over it is cut off, a body under it is forwarded whole; and a bad value is a clear validation error.
/// </summary>
public sealed class BodyLimitTests : IAsyncLifetime
{
    private HostileGateway _edge = null!;

    public async ValueTask InitializeAsync()
    {
        _edge = await HostileGateway.StartAsync("""
            { "version": "body-limits", "defaultClass": "open",
              "classes": {
                "open": { "tier": "standard", "budgetMs": 200, "auth": "anonymous", "timeoutMs": 5000 },
                "small": { "tier": "critical-auth", "budgetMs": 50, "auth": "anonymous", "timeoutMs": 5000, "maxBodyBytes": 1024 } },
              "routes": {
                "all": { "path": "/a/{**rest}", "class": "open", "cluster": "backend" },
                "small": { "path": "/small/{**rest}", "class": "small", "cluster": "backend" } },
              "clusters": { "backend": { "address": "" } } }
            """);
    }

    public ValueTask DisposeAsync() => _edge.DisposeAsync();

    [Fact]
    public async Task ContentLengthOverTheClassLimit_Is413_WithoutABackendCall()
    {
        // Only the head is sent: the gateway must answer from the declared length alone.
        var response = await RawHttp.SendAsync(_edge.Port, "POST /small/x HTTP/1.1\r\nHost: x\r\nContent-Length: 2048\r\n\r\n");

        Assert.Equal(413, response.Status);
        Assert.Contains("https://gateway.dev/problems/body-too-large", response.Text);
        Assert.True(response.ConnectionClosed, "the unread body must not be parsed as a next request");
        Assert.Empty(Proxied());
    }

    [Fact]
    public async Task BodyUnderTheClassLimit_IsForwardedWhole()
    {
        string body = new('s', 1000);
        var response = await _edge.Gateway.Client.PostAsync("/small/ok", new StringContent(body));

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Contains(_edge.Backend.Requests, r => r.Path == "/small/ok" && r.Body == body);
    }

    [Fact]
    public async Task TheClassLimitAppliesOnlyToItsClass()
    {
        string body = new('o', 4096);
        var response = await _edge.Gateway.Client.PostAsync("/a/bigger", new StringContent(body));

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Contains(_edge.Backend.Requests, r => r.Path == "/a/bigger" && r.Body == body);
    }

    [Fact]
    public async Task ChunkedBodyOverTheClassLimit_IsCutOff_AndTheBackendNeverGetsItWhole()
    {
        var raw = new StringBuilder("POST /small/chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (int i = 0; i < 8; i++) raw.Append("200\r\n").Append('c', 512).Append("\r\n");   // 8 × 512 = 4 KiB
        raw.Append("0\r\n\r\n");

        var response = await RawHttp.SendAsync(_edge.Port, raw.ToString(), TimeSpan.FromSeconds(10));

        Assert.True(response.Status == 413 || (response.Status == 0 && response.ConnectionClosed), $"expected 413 or a cut connection, got: {response.Text}");
        Assert.DoesNotContain(_edge.Backend.Requests, r => r.Path == "/small/chunked" && r.Body.Length >= 1024);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("0")]
    [InlineData("65536.5")]
    [InlineData("\"64KiB\"")]
    public void BadMaxBodyBytes_IsAValidationErrorNamingTheClassAndTheFix(string value)
    {
        var json = RouteFiles.Shipped();
        json["classes"]!["standard"]!["maxBodyBytes"] = JsonNode.Parse(value);

        var errors = RouteClassFileParser.Parse(json.ToJsonString(), out var snapshot);

        Assert.Null(snapshot);
        string error = Assert.Single(errors);
        Assert.Contains($"Class 'standard' has 'maxBodyBytes' {value}", error);
        Assert.Contains("not a positive whole number of bytes", error);
        Assert.Contains("Kestrel:Limits:MaxRequestBodySize", error);
    }

    [Fact]
    public void ShippedFile_LimitsAuthBodiesTo64KiB()
    {
        RouteClassFileParser.ParseFile(RouteFiles.ShippedPath, out var snapshot);
        Assert.NotNull(snapshot);
        foreach (var route in new[] { "auth-login", "auth-register", "auth", "users", "authz" })
            Assert.Equal(65536, snapshot.Classes[snapshot.Routes[route].Class].MaxBodyBytes);
    }

    /// <summary>Requests the gateway forwarded (the readiness probe's GET /health is the gateway's own).</summary>
    private List<RecordedRequest> Proxied() => _edge.Backend.Requests.Where(r => r.Path != "/health").ToList();
}
