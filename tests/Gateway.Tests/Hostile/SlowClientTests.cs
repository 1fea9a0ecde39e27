using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Gateway.Tests.Support;
using TestInfrastructure;

namespace Gateway.Tests.Hostile;

/// <summary>
/// Slow-client attacks over real sockets against the real gateway, with Kestrel's timeouts shortened on the command
/// line. The assertion windows are several times the configured limits: they check that the gateway cuts the client
/// off at all, never how fast.
/// </summary>
public sealed class SlowClientTests : IAsyncLifetime
{
    private static readonly TimeSpan ReadWindow = TimeSpan.FromSeconds(25);
    private static readonly TimeSpan TrickleInterval = TimeSpan.FromMilliseconds(500);
    // Well inside the 5 s header timeout and 4 s grace period configured below, so the normal request runs mid-attack.
    private static readonly TimeSpan AttackUnderWay = TimeSpan.FromSeconds(1);

    private HostileGateway _edge = null!;

    public async ValueTask InitializeAsync()
    {
        _edge = await HostileGateway.StartAsync(HostileGateway.OpenRoutes("slow", timeoutMs: 30000),
            "--Kestrel:Limits:RequestHeadersTimeout=00:00:05", "--Kestrel:Limits:MinRequestBodyDataRate:GracePeriod=00:00:04");
        // Warm up, so the first proxied request's JIT cost does not fall inside an attack window.
        Assert.Equal(200, (int)(await _edge.Gateway.Client.GetAsync("/a/warm-up")).StatusCode);
    }

    public ValueTask DisposeAsync() => _edge.DisposeAsync();

    [Fact]
    public async Task Slowloris_HeadersOneByteAtATime_ConnectionClosedAtTheHeaderTimeout_OthersServed()
    {
        // The header section never ends: only the gateway can end this connection.
        byte[] endless = Encoding.ASCII.GetBytes("GET /a/slowloris HTTP/1.1\r\nHost: x\r\nX-Slow: " + new string('a', 200));
        var attack = StartTrickling(endless, skip: 0);
        await Task.Delay(AttackUnderWay);

        // A normal client on its own connection is served while the slow one is still open.
        var normal = await _edge.Gateway.Client.GetAsync("/a/normal");
        bool attackStillOpen = !attack.IsCompleted;
        var (slow, elapsed) = await attack;

        Assert.Equal(200, (int)normal.StatusCode);
        Assert.True(attackStillOpen, "the normal request should have been served during the attack");
        Assert.True(slow.ConnectionClosed, $"the slow client was not disconnected within {ReadWindow.TotalSeconds} s");
        Assert.True(slow.Status is 408 or 0, $"expected 408 or a bare close, got: {slow.Text}");
        Assert.True(elapsed >= TimeSpan.FromSeconds(1), $"closed after {elapsed}, before the header timeout could apply");
        Assert.DoesNotContain(_edge.Backend.Requests, r => r.Path == "/a/slowloris");
    }

    [Fact]
    public async Task TricklingBody_BelowTheMinimumRate_IsCutOff_OthersServed()
    {
        // Headers at once, then a 10,000-byte body at 2 bytes/s against a minimum of 240 bytes/s.
        string head = "POST /a/trickle HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 10000\r\n\r\n";
        byte[] request = [.. Encoding.ASCII.GetBytes(head), .. Enumerable.Repeat((byte)'b', 10_000)];
        var attack = StartTrickling(request, skip: head.Length);
        await Task.Delay(AttackUnderWay);

        var normal = await _edge.Gateway.Client.PostAsync("/a/normal", new StringContent("fine"));
        bool attackStillOpen = !attack.IsCompleted;
        var (slow, _) = await attack;

        Assert.Equal(200, (int)normal.StatusCode);
        Assert.True(attackStillOpen, "the normal request should have been served during the attack");
        Assert.True(slow.ConnectionClosed, $"the trickling client was not disconnected within {ReadWindow.TotalSeconds} s");
        Assert.True(slow.Status is 408 or 0, $"expected 408 or a bare close, got: {slow.Text}");
        // The backend may have seen the headers (the proxy streams the body), but never the complete body.
        Assert.DoesNotContain(_edge.Backend.Requests, r => r.Path == "/a/trickle" && r.Body.Length == 10_000);
        Assert.Contains(_edge.Backend.Requests, r => r.Path == "/a/normal" && r.Body == "fine");
    }

    [Fact]
    public async Task TricklingLoginBody_BelowTheMinimumRate_Is408RequestBodyTimeout_NotAnAmbiguousBody()
    {
        // The login limiter reads the body to count the account; Kestrel's minimum-rate 408 was caught as any read error
        // and answered 400 "must be one UTF-8 JSON object", where the proxy stage answers the same slow body 408.
        await using var login = await HostileGateway.StartAsync("""
            { "version": "slow-login", "defaultClass": "login",
              "classes": { "login": { "tier": "critical-auth", "budgetMs": 200, "auth": "anonymous", "timeoutMs": 30000, "rateLimit": "login" } },
              "routes": { "login": { "path": "/auth/login", "methods": ["POST"], "class": "login", "cluster": "backend" } },
              "clusters": { "backend": { "address": "" } },
              "rateLimitPolicies": { "login": { "algorithm": "sliding-window", "limit": 10, "windowSeconds": 60, "partition": "ip+account" } } }
            """, "--Kestrel:Limits:MinRequestBodyDataRate:GracePeriod=00:00:02");
        string head = "POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n";
        byte[] body = Encoding.ASCII.GetBytes("{\"email\":\"a@example.com\",\"password\":\"" + new string('p', 500) + "\"}")[..500];
        var (slow, _) = await StartTrickling([.. Encoding.ASCII.GetBytes(head), .. body], skip: head.Length + 10, port: login.Port);

        Assert.True(slow.Status == 408, slow.Text);
        Assert.Contains("request-body-timeout", slow.Text);
        Assert.True(slow.ConnectionClosed, slow.Text);
        Assert.DoesNotContain(login.Backend.Requests, r => r.Path == "/auth/login");
    }

    /// <summary>
    /// Sends the first <paramref name="skip"/> bytes at once, then one byte per <see cref="TrickleInterval"/> until
    /// the server closes the connection (or the bytes run out). Returns what the server answered and when it closed.
    /// </summary>
    private Task<(RawResponse Response, TimeSpan Elapsed)> StartTrickling(byte[] request, int skip, int? port = null) => Task.Run(async () =>
    {
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync("127.0.0.1", port ?? _edge.Port);
        var stream = client.GetStream();
        var clock = Stopwatch.StartNew();
        var read = RawHttp.ReadAsync(stream, ReadWindow);
        try
        {
            if (skip > 0) await stream.WriteAsync(request.AsMemory(0, skip));
            for (int i = skip; i < request.Length && !read.IsCompleted; i++)
            {
                await stream.WriteAsync(request.AsMemory(i, 1));
                await Task.WhenAny(read, Task.Delay(TrickleInterval));
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException) { }   // the gateway closed the connection: expected
        var response = await read;
        return (response, clock.Elapsed);
    });
}
