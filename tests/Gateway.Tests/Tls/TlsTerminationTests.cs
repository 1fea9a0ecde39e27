using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Tests.Support;
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
}
