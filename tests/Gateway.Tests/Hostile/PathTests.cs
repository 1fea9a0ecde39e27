using System.Text;
using Gateway.Tests.Support;
using TestInfrastructure;

namespace Gateway.Tests.Hostile;

/// <summary>
/// Path encodings that try to reach an auth-required prefix through an anonymous one, sent without a token as exact
/// bytes. Each is refused, or the request the backend received is not a protected path even when read by the most
/// lenient backend imaginable (one that decodes repeatedly, treats '\' as '/', drops ';' parameters, merges '//' and
/// resolves dot segments): the route class was decided on the path the backend sees.
/// </summary>
public sealed class PathTests : IAsyncLifetime
{
    private HostileGateway _edge = null!;

    public async ValueTask InitializeAsync()
    {
        _edge = await HostileGateway.StartAsync("""
            { "version": "paths", "defaultClass": "private",
              "classes": {
                "open": { "tier": "standard", "budgetMs": 200, "auth": "anonymous", "timeoutMs": 5000 },
                "private": { "tier": "standard", "budgetMs": 200, "auth": "session", "timeoutMs": 5000 } },
              "routes": {
                "public": { "path": "/public/{**rest}", "class": "open", "cluster": "backend" },
                "auth": { "path": "/auth/{**rest}", "class": "private", "cluster": "backend" } },
              "clusters": { "backend": { "address": "" } } }
            """);
    }

    public ValueTask DisposeAsync() => _edge.DisposeAsync();

    public static TheoryData<string> Tricks() =>
    [
        "/public/%2e%2e/auth/me", "/public/%2E%2E/auth/me", "/public/.%2e/auth/me", "/public/../auth/me", "/public/./../auth/me",
        "/public/..%2fauth/me", "/public/..%2Fauth%2Fme", "/public%2F..%2Fauth%2Fme", "/public/%2e%2e%2fauth%2fme",
        "/public/%252e%252e/auth/me", "/public/..%252Fauth/me", "//auth/me", "///auth//me", "/public//..//auth/me",
        "/AUTH/ME", "/Auth/Me", "/public/%00/../auth/me", "/auth/me%00", "/public/..\\auth\\me", "/public\\..\\auth\\me",
        "/public/..%5Cauth%5Cme", "/public/..%5cauth/me", "/public/..;/auth/me", "/public/%2e%2e;x/auth/me",
        "/public/%c0%ae%c0%ae/auth/me", "/public/%c0%af../auth/me", "/public/%e0%80%ae%e0%80%ae/auth/me",
        "http://x/public/../auth/me", "/public/%0d%0a../auth/me",
    ];

    [Theory]
    [MemberData(nameof(Tricks))]
    public async Task EncodedPathTrick_WithoutAToken_NeverReachesAProtectedPathAnonymously(string target)
    {
        _edge.Backend.Clear();
        var response = await RawHttp.SendAsync(_edge.Port, $"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");

        Assert.True(response.Status is 200 or 400 or 401 or 404, $"{target}: unexpected {response.Status}: {Head(response.Text)}");
        foreach (var received in Proxied())
        {
            string seen = AsALenientBackendWouldSee(received.RawTarget);
            Assert.False(seen == "/auth" || seen.StartsWith("/auth/", StringComparison.Ordinal),
                $"{target}: reached the backend anonymously as {received.RawTarget} (read as {seen})");
        }
    }

    /// <summary>Ambiguous encodings the gateway refuses outright (docs/hardening.md, "Path normalisation").</summary>
    [Theory]
    [InlineData("/public/..%2Fauth%2Fme")]
    [InlineData("/public/a%2fb")]
    [InlineData("/public/a%5Cb")]
    [InlineData("/public/a\\b")]
    [InlineData("/public/a%00b")]
    [InlineData("/public/a%252Fb")]
    [InlineData("/public/a%0Ab")]
    [InlineData("/public/..;/auth/me")]
    [InlineData("/public/.;x/y")]
    [InlineData("/public/%c0%ae%c0%ae/auth/me")]
    public async Task AmbiguousEncoding_Is400_WithoutABackendCall(string target)
    {
        _edge.Backend.Clear();
        var response = await RawHttp.SendAsync(_edge.Port, $"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.True(response.Status == 400, $"{target}: expected 400, got {response.Status}: {Head(response.Text)}");
        Assert.Empty(Proxied());
    }

    [Theory]
    [InlineData("//public//a///b", "/public/a/b")]
    [InlineData("/public/a/./b/../c", "/public/a/c")]
    [InlineData("/public/caf%C3%A9", "/public/caf%C3%A9")]
    [InlineData("/public/a.b;v=1", "/public/a.b;v=1")]
    public async Task LegitimatePaths_AreForwarded_Normalised(string target, string expected)
    {
        _edge.Backend.Clear();
        var response = await RawHttp.SendAsync(_edge.Port, $"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.True(response.Status == 200, $"{target}: expected 200, got {response.Status}: {Head(response.Text)}");
        Assert.Equal(expected, Assert.Single(Proxied()).RawTarget);
    }

    [Theory]
    [InlineData("//auth//me")]
    [InlineData("/public/../auth/me")]
    [InlineData("/AUTH/me")]
    public async Task ProtectedPathSpelledDifferently_IsClassifiedAsProtected_401(string target)
    {
        _edge.Backend.Clear();
        var response = await RawHttp.SendAsync(_edge.Port, $"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.True(response.Status == 401, $"{target}: expected 401, got {response.Status}: {Head(response.Text)}");
        Assert.Empty(Proxied());
    }

    /// <summary>The worst reading of a request target: decode until stable, '\' as '/', no ';' parameters, merged '//', dots resolved.</summary>
    internal static string AsALenientBackendWouldSee(string rawTarget)
    {
        string path = rawTarget;
        int q = path.IndexOf('?');
        if (q >= 0) path = path[..q];
        for (int i = 0; i < 5; i++)
        {
            string decoded = PercentDecodeLatin1(path);
            if (decoded == path) break;
            path = decoded;
        }
        // Overlong UTF-8 (old IIS, some Java decoders): C0 AE and E0 80 AE read as '.', C0 AF as '/'.
        path = path.Replace("\u00c0\u00ae", ".").Replace("\u00e0\u0080\u00ae", ".").Replace("\u00c0\u00af", "/");
        path = path.Replace('\\', '/').Replace("\0", "").ToLowerInvariant();
        var output = new List<string>();
        foreach (var raw in path.Split('/'))
        {
            string segment = raw.Split(';')[0].Trim();
            if (segment is "" or ".") continue;
            if (segment == "..") { if (output.Count > 0) output.RemoveAt(output.Count - 1); continue; }
            output.Add(segment);
        }
        return "/" + string.Join('/', output);
    }

    /// <summary>One round of %XX decoding, each byte as a Latin-1 char, so invalid UTF-8 stays visible.</summary>
    private static string PercentDecodeLatin1(string text)
    {
        var sb = new StringBuilder(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '%' && i + 2 < text.Length && Uri.IsHexDigit(text[i + 1]) && Uri.IsHexDigit(text[i + 2]))
            {
                sb.Append((char)Convert.ToByte(text.Substring(i + 1, 2), 16));
                i += 2;
            }
            else sb.Append(text[i]);
        }
        return sb.ToString();
    }

    /// <summary>Requests the gateway forwarded (the readiness probe's GET /health is the gateway's own).</summary>
    private List<RecordedRequest> Proxied() => _edge.Backend.Requests.Where(r => r.Path != "/health").ToList();

    private static string Head(string text) => text.Length > 300 ? text[..300] : text;
}
