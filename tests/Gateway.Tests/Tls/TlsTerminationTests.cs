using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Tests.Hostile;
using Gateway.Tests.Observability;
using Gateway.Tests.Support;
using Microsoft.Extensions.Logging;
using TestInfrastructure;

namespace Gateway.Tests.Tls;

/// <summary>TLS termination on the real gateway with certificates generated at test time.</summary>
public sealed class TlsTerminationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gwtest-tls-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static X509Certificate2 CreateCertificate(string cn)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={cn}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }

    private (string Cert, string Key) WritePem(X509Certificate2 cert, string name = "gw")
    {
        string certPath = Path.Combine(_dir, name + ".crt"), keyPath = Path.Combine(_dir, name + ".key");
        File.WriteAllText(certPath, cert.ExportCertificatePem());
        File.WriteAllText(keyPath, cert.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        return (certPath, keyPath);
    }

    /// <summary>A client that trusts exactly one thumbprint and records the one the server presented.</summary>
    private static HttpClient PinnedClient(Func<string> expected, Action<string>? seen = null, Version? version = null) =>
        new(new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.Zero, // a new handshake per request, so a reloaded certificate is seen
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, c, _, _) =>
                {
                    string thumb = c is null ? "" : new X509Certificate2(c).Thumbprint;
                    seen?.Invoke(thumb);
                    return thumb == expected();
                },
            },
        })
        {
            DefaultRequestVersion = version ?? HttpVersion.Version11,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

    private static async Task<GatewayInstance> StartAsync(RecordingBackend backend, int tlsPort, params string[] tlsArgs) =>
        await GatewayInstance.StartAsync(backend.BaseUrl, "127.0.0.1:1,abortConnect=false", RouteFiles.CreateTemp(), null,
            [$"--Tls:Url=https://127.0.0.1:{tlsPort}", .. tlsArgs]);

    [Fact]
    public async Task PemCertificate_ServesHttp1AndHttp2ViaAlpn_WithHstsOnTlsOnly()
    {
        using var cert = CreateCertificate("gateway-test");
        var (certPath, keyPath) = WritePem(cert);
        await using var backend = await RecordingBackend.StartAsync();
        int tlsPort = FreePort.Next();
        await using var gateway = await StartAsync(backend, tlsPort, $"--Tls:CertificatePath={certPath}", $"--Tls:KeyPath={keyPath}");

        using var h1 = PinnedClient(() => cert.Thumbprint);
        var r1 = await h1.GetAsync($"https://127.0.0.1:{tlsPort}/health");
        Assert.Equal(HttpStatusCode.OK, r1.StatusCode);
        Assert.Equal(HttpVersion.Version11, r1.Version);
        Assert.StartsWith("max-age=31536000", r1.Headers.GetValues("Strict-Transport-Security").Single());

        using var h2 = PinnedClient(() => cert.Thumbprint, version: HttpVersion.Version20);
        var r2 = await h2.GetAsync($"https://127.0.0.1:{tlsPort}/health");
        Assert.Equal(HttpStatusCode.OK, r2.StatusCode);
        Assert.Equal(HttpVersion.Version20, r2.Version);

        // The plain-HTTP listener keeps working next to the TLS one, without HSTS (meaningless over plain HTTP).
        var plain = await gateway.Client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        Assert.False(plain.Headers.Contains("Strict-Transport-Security"));
    }

    [Fact]
    public async Task TheClassTimeoutsAnswer_KeepsHsts()
    {
        // The 504 a stage before the proxy runs into clears what stages set, but not the headers every answer carries.
        using var cert = CreateCertificate("gateway-test");
        var (certPath, keyPath) = WritePem(cert);
        await using var backend = await FakeSessionBackend.StartAsync();
        backend.IntrospectionDelay = TimeSpan.FromSeconds(3);
        string routes = RouteFiles.CreateTemp(j =>
        {
            j["classes"]!["impatient-session"] = new System.Text.Json.Nodes.JsonObject { ["tier"] = "standard", ["budgetMs"] = 5000, ["auth"] = "session", ["timeoutMs"] = 200 };
            RouteFiles.AddRoute(j, "slow", "/slow/{**rest}", "impatient-session");
        });
        int tlsPort = FreePort.Next();
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, "127.0.0.1:1,abortConnect=false", routes, null,
            $"--Tls:Url=https://127.0.0.1:{tlsPort}", $"--Tls:CertificatePath={certPath}", $"--Tls:KeyPath={keyPath}");

        using var client = PinnedClient(() => cert.Thumbprint);
        using var request = TestSession.Create().Get($"https://127.0.0.1:{tlsPort}/slow/thing");
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.StartsWith("max-age=", response.Headers.GetValues("Strict-Transport-Security").Single());
        Assert.Equal("impatient-session", response.Headers.GetValues("X-Route-Class").Single());
    }

    [Fact]
    public async Task PfxCertificate_IsServed()
    {
        using var cert = CreateCertificate("gateway-pfx");
        string pfx = Path.Combine(_dir, "gw.pfx");
        File.WriteAllBytes(pfx, cert.Export(X509ContentType.Pkcs12, "pfx-password"));
        await using var backend = await RecordingBackend.StartAsync();
        int tlsPort = FreePort.Next();
        await using var gateway = await StartAsync(backend, tlsPort, $"--Tls:CertificatePath={pfx}", "--Tls:Password=pfx-password");

        using var client = PinnedClient(() => cert.Thumbprint);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"https://127.0.0.1:{tlsPort}/health")).StatusCode);
    }

    [Fact]
    public async Task ReplacedCertificateFile_IsServedOnNewConnections_AndABrokenFileKeepsThePreviousOne()
    {
        using var first = CreateCertificate("first");
        var (certPath, keyPath) = WritePem(first);
        await using var backend = await RecordingBackend.StartAsync();
        int tlsPort = FreePort.Next();
        await using var gateway = await StartAsync(backend, tlsPort, $"--Tls:CertificatePath={certPath}", $"--Tls:KeyPath={keyPath}");

        string expected = first.Thumbprint, lastSeen = "";
        using var client = PinnedClient(() => expected, t => lastSeen = t);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"https://127.0.0.1:{tlsPort}/health")).StatusCode);

        // A half-written file (garbage) is rejected; the first certificate keeps serving.
        File.WriteAllText(certPath, "-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n");
        await Task.Delay(TimeSpan.FromSeconds(1)); // past the reload debounce: the bad file has been tried
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"https://127.0.0.1:{tlsPort}/health")).StatusCode);
        Assert.Equal(first.Thumbprint, lastSeen);

        using var second = CreateCertificate("second");
        WritePem(second);
        expected = second.Thumbprint;
        await Poll.UntilAsync(async () =>
        {
            try { return (await client.GetAsync($"https://127.0.0.1:{tlsPort}/health")).IsSuccessStatusCode; }
            catch (HttpRequestException) { return false; } // still the old certificate: the pin refuses it
        }, "the renewed certificate is served");
        Assert.Equal(second.Thumbprint, lastSeen);
    }

    /// <summary>
    /// HTTP/2 has no Transfer-Encoding (RFC 9113 §8.2.2: connection-specific fields make a request malformed). Sent over
    /// raw frames, since HttpClient will not send it: the gateway must refuse the request, never forward it. The path is
    /// an anonymous-looking one so a 401 from session validation could not pass for the refusal.
    /// </summary>
    [Fact]
    public async Task Http2_TransferEncodingHeader_IsRefused_AndNeverReachesTheBackend()
    {
        using var cert = CreateCertificate("gateway-test");
        var (certPath, keyPath) = WritePem(cert);
        await using var backend = await RecordingBackend.StartAsync();
        int tlsPort = FreePort.Next();
        await using var gateway = await StartAsync(backend, tlsPort, $"--Tls:CertificatePath={certPath}", $"--Tls:KeyPath={keyPath}");

        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, tlsPort);
        await using var tls = new SslStream(tcp.GetStream());
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost", ApplicationProtocols = [SslApplicationProtocol.Http2], RemoteCertificateValidationCallback = (_, _, _, _) => true,
        });
        Assert.Equal(SslApplicationProtocol.Http2, tls.NegotiatedApplicationProtocol);

        var block = new MemoryStream();
        block.WriteByte(0x82);                               // :method GET (static table 2)
        block.WriteByte(0x87);                               // :scheme https (static table 7)
        HpackLiteral(block, 0x04, null, "/public/anything");  // :path, name from static table 4
        HpackLiteral(block, 0x01, null, "localhost");         // :authority, name from static table 1
        HpackLiteral(block, 0x00, "transfer-encoding", "chunked");
        var output = new MemoryStream();
        output.Write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8);
        WriteFrame(output, type: 0x4, flags: 0, streamId: 0, []);                     // SETTINGS (empty)
        WriteFrame(output, type: 0x1, flags: 0x5, streamId: 1, block.ToArray());      // HEADERS, END_STREAM | END_HEADERS
        await tls.WriteAsync(output.ToArray(), TestContext.Current.CancellationToken);

        // Read frames until the server decides about stream 1: RST_STREAM, GOAWAY, or (wrongly) a response.
        string verdict = "";
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var header = new byte[9];
        while (verdict.Length == 0)
        {
            await tls.ReadExactlyAsync(header, cts.Token);
            int length = header[0] << 16 | header[1] << 8 | header[2];
            byte type = header[3];
            int stream = (header[5] & 0x7f) << 24 | header[6] << 16 | header[7] << 8 | header[8];
            var payload = new byte[length];
            await tls.ReadExactlyAsync(payload, cts.Token);
            if (type == 0x3 && stream == 1) verdict = "RST_STREAM " + (payload[0] << 24 | payload[1] << 16 | payload[2] << 8 | payload[3]);
            else if (type == 0x7) verdict = "GOAWAY " + (payload[4] << 24 | payload[5] << 16 | payload[6] << 8 | payload[7]);
            // 0x88 + n is an indexed :status from the HPACK static table: 0x8c is 400.
            else if (type == 0x1 && stream == 1) verdict = payload.Length > 0 && payload[0] == 0x8c ? "400" : "HEADERS " + Convert.ToHexString(payload.AsSpan(0, Math.Min(8, payload.Length)));
        }
        // Kestrel accepts the field; the gateway answers 400 itself (a PROTOCOL_ERROR reset would be as good).
        Assert.True(verdict is "400" or "RST_STREAM 1" or "GOAWAY 1", $"expected 400 or the stream refused with PROTOCOL_ERROR, got {verdict}");
        Assert.DoesNotContain(backend.Requests, r => r.Path != "/health");   // /health: the readiness probe
    }

    /// <summary>
    /// The HTTP/2 refusals proved on the h2c listener (Http2RequestTests) hold where most HTTP/2 clients arrive: TLS with
    /// h2 by ALPN, hand-built frames over the SslStream (<see cref="RawH2.ConnectTlsAsync"/>). A stream the client resets
    /// mid-body is the client's doing: never a 5xx, never counted as the backend's failure.
    /// </summary>
    [Fact]
    public async Task Http2ByAlpn_RefusesWhatH2cRefuses_AndAResetMidBodyIsTheClients()
    {
        using var cert = CreateCertificate("gateway-test");
        var (certPath, keyPath) = WritePem(cert);
        await using var backend = await RecordingBackend.StartAsync();
        var capture = new CapturingLoggerProvider();
        int tlsPort = FreePort.Next();
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, HostileGateway.NoRedis,
            RouteFiles.WriteTemp(HostileGateway.OpenRoutes("tls-h2")), b => b.Logging.AddProvider(capture),
            $"--Tls:Url=https://127.0.0.1:{tlsPort}", $"--Tls:CertificatePath={certPath}", $"--Tls:KeyPath={keyPath}");

        (string, string)[] Request(string method, string path, params (string, string)[] more) =>
            [(":method", method), (":scheme", "https"), (":authority", "localhost"), (":path", path), .. more];
        async Task<RawH2.Answer> SendAsync(Func<RawH2, Task> send)
        {
            await using var h2 = await RawH2.ConnectTlsAsync(tlsPort);
            await send(h2);
            return await h2.ReadAnswerAsync(1);
        }

        // A WebSocket the backend answers 200 without upgrading; CONNECT that is no WebSocket; a connection-specific field.
        var refusedWs = await SendAsync(h2 => h2.HeadersAsync(1, false, Request("CONNECT", "/a/plain", (":protocol", "websocket"), ("sec-websocket-version", "13"))));
        Assert.True(refusedWs.Status == 400 && refusedWs.Body.Contains("websocket-not-accepted"), refusedWs.ToString());
        var tunnel = await SendAsync(h2 => h2.HeadersAsync(1, false, Request("CONNECT", "/a/x", (":protocol", "connect-udp"))));
        Assert.True(tunnel.Status == 400 && tunnel.Body.Contains("unsupported-connect"), tunnel.ToString());
        var plainConnect = await SendAsync(h2 => h2.HeadersAsync(1, false, (":method", "CONNECT"), (":authority", "example.com:443")));
        Assert.True(plainConnect.Status == 400 && plainConnect.Body.Contains("unsupported-connect"), plainConnect.ToString());
        var te = await SendAsync(h2 => h2.HeadersAsync(1, true, Request("GET", "/a/x", ("transfer-encoding", "chunked"))));
        Assert.True(te.Status == 400 && te.Body.Contains("connection-specific-header"), te.ToString());

        // Half a body, then RST_STREAM (CANCEL).
        await using (var h2 = await RawH2.ConnectTlsAsync(tlsPort))
        {
            await h2.HeadersAsync(1, false, Request("POST", "/a/upload", ("content-length", "100")));
            await h2.DataAsync(1, "hello"u8.ToArray(), endStream: false);
            await h2.ResetAsync(1);
            // The connection outlives the reset stream: the next one is served.
            await h2.HeadersAsync(3, true, Request("GET", "/a/after"));
            var after = await h2.ReadAnswerAsync(3);
            Assert.True(after.Status == 200, after.ToString());
        }

        // Requests past the refusals before routing (the WebSocket, the upload, /a/after) are all recorded: the reset one is done.
        string metrics = "";
        await Poll.UntilAsync(async () => RequestCount(metrics = await gateway.AdminClient.GetStringAsync("/metrics")) >= 3, "the reset upload is recorded");
        Assert.DoesNotContain("status_class=\"5xx\"", metrics);
        Assert.DoesNotContain("cause=\"backend\"", metrics);
        Assert.Contains("gateway_breaker_state{name=\"backend\"} 0", metrics);
        Assert.DoesNotContain(backend.Requests, r => r.Path is "/a/x" or "/a/upload");
        Assert.DoesNotContain(capture.Entries, e => e.Level >= LogLevel.Warning && e.Exception is not null);
    }

    private static long RequestCount(string metrics) => metrics.Split('\n')
        .Where(l => l.StartsWith("gateway_request_duration_seconds_count{", StringComparison.Ordinal) && l.Contains("route_class=\"open\""))
        .Sum(l => long.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));

    private static void HpackLiteral(Stream block, byte nameIndex, string? name, string value)
    {
        block.WriteByte(nameIndex);   // literal header field without indexing (0000 xxxx)
        if (name is not null) { block.WriteByte((byte)name.Length); block.Write(System.Text.Encoding.ASCII.GetBytes(name)); }
        block.WriteByte((byte)value.Length);
        block.Write(System.Text.Encoding.ASCII.GetBytes(value));
    }

    private static void WriteFrame(Stream output, byte type, byte flags, int streamId, byte[] payload)
    {
        output.Write([(byte)(payload.Length >> 16), (byte)(payload.Length >> 8), (byte)payload.Length, type, flags,
            (byte)(streamId >> 24), (byte)(streamId >> 16), (byte)(streamId >> 8), (byte)streamId]);
        output.Write(payload);
    }
}
