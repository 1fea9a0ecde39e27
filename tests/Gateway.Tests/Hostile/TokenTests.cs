using System.Text;
using Gateway.Tests.Support;
using TestInfrastructure;

namespace Gateway.Tests.Hostile;

/// <summary>
/// Odd credentials on a session route, sent as exact bytes: each gets a defined 400 or 401 (a problem body when the
/// gateway answers; Kestrel's own 400 for bytes HTTP forbids), never a 500, never an introspection call and never a
/// proxied request. A query-string token is not a credential.
/// </summary>
public sealed class TokenTests : IAsyncLifetime
{
    private FakeSessionBackend _backend = null!;
    private GatewayInstance _gateway = null!;
    private TestSession _session = null!;
    private int _port;

    public async ValueTask InitializeAsync()
    {
        _backend = await FakeSessionBackend.StartAsync();
        _session = TestSession.Create();
        _backend.Add(_session);
        // Redis down: any token that passed the format check would go straight to introspection, which is counted.
        _gateway = await GatewayInstance.StartAsync(_backend.BaseUrl, "127.0.0.1:1,abortConnect=false", RouteFiles.CreateTemp());
        _port = new Uri(_gateway.BaseUrl).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _backend.DisposeAsync();
    }

    public static TheoryData<string, string, int> Cases()
    {
        string valid = TestSession.Create().Token;
        return new()
        {
            { "empty bearer", "Authorization: Bearer \r\n", 401 },
            { "bearer with only spaces", "Authorization: Bearer      \r\n", 401 },
            { "scheme alone", "Authorization: Bearer\r\n", 401 },
            { "other scheme", "Authorization: Basic dXNlcjpwYXNz\r\n", 401 },
            { "huge token", $"Authorization: Bearer {new string('A', 6 * 1024)}\r\n", 401 },
            { "token one char short", $"Authorization: Bearer {valid[..^1]}\r\n", 401 },
            { "token with padding", $"Authorization: Bearer {valid}=\r\n", 401 },
            { "standard base64 alphabet", $"Authorization: Bearer {valid[..^1]}+\r\n", 401 },
            { "two tokens in one header", $"Authorization: Bearer {valid}, Bearer {valid}\r\n", 401 },
            { "two Authorization headers", $"Authorization: Bearer {valid}\r\nAuthorization: Bearer {valid}\r\n", 400 },
            { "two Authorization headers, one empty", $"Authorization: Bearer {valid}\r\nAuthorization: \r\n", 400 },
            // Valid UTF-8 reaches the gateway, whose format check (base64url alphabet, exact length) refuses it;
            // bytes that are not UTF-8 are refused by Kestrel before any middleware runs.
            { "UTF-8 bytes in the token", $"Authorization: Bearer {valid[..^2]}\u00c3\u00a9\r\n", 401 },
            { "invalid UTF-8 byte in the token", $"Authorization: Bearer {valid[..^1]}\u00e9\r\n", 400 },
            { "invalid UTF-8 byte in the scheme", "Authorization: B\u00e9arer x\r\n", 400 },
            { "NUL in the token", $"Authorization: Bearer {valid[..^1]}\0\r\n", 400 },
            { "empty session cookie", "Cookie: session=\r\n", 401 },
            { "malformed session cookie", "Cookie: session=../../etc/passwd\r\n", 401 },
        };
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task OddCredential_GetsADefinedAnswer_WithoutIntrospectionOrBackendCall(string name, string headers, int expected)
    {
        var response = await RawHttp.SendAsync(_port,
            Encoding.Latin1.GetBytes($"GET /users/me HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{headers}\r\n"));

        Assert.True(response.Status == expected, $"{name}: expected {expected}, got {response.Status}: {Head(response.Text)}");
        if (expected == 401) Assert.Contains("application/problem+json", response.Text);
        Assert.Equal(0, _backend.IntrospectionCount);
        Assert.Empty(_backend.ProxiedTo("/users/me"));
    }

    [Fact]
    public async Task TokenInTheQueryString_IsNotACredential()
    {
        var response = await RawHttp.SendAsync(_port,
            $"GET /users/me?access_token={_session.Token} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");

        Assert.Equal(401, response.Status);
        Assert.Contains("https://gateway.dev/problems/unauthenticated", response.Text);
        Assert.Equal(0, _backend.IntrospectionCount);
        Assert.Empty(_backend.ProxiedTo("/users/me"));
    }

    [Fact]
    public async Task TheSameSessionInTheHeader_IsAccepted()
    {
        var response = await _gateway.Client.SendAsync(_session.Get("/users/me"));
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal(1, _backend.IntrospectionCount);
    }

    private static string Head(string text) => text.Length > 300 ? text[..300] : text;
}
