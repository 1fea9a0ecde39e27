using System.Diagnostics;
using System.Net;
using Gateway.Tests.Support;
using Microsoft.Extensions.Options;
using TestInfrastructure;

namespace Gateway.Tests.Observability;

/// <summary>
/// Issue 14.5: the operator surface (<c>/metrics</c>, <c>/gateway/*</c>) lives on a listener of its own and never on
/// the public one. The real gateway; the public and operator listeners on free ports.
/// </summary>
public sealed class AdminListenerTests : IAsyncLifetime
{
    private const string Key = "0123456789abcdef-admin-key";
    private static readonly string[] OperatorPaths = ["/metrics", "/gateway/status", "/gateway/stats", "/gateway/dashboard", "/gateway/config"];
    private FakeSessionBackend _backend = null!;

    public async ValueTask InitializeAsync() => _backend = await FakeSessionBackend.StartAsync();

    public async ValueTask DisposeAsync() => await _backend.DisposeAsync();

    private Task<GatewayInstance> StartAsync(params string[] args) =>
        GatewayInstance.StartAsync(_backend.BaseUrl, "127.0.0.1:1,abortConnect=false", RouteFiles.CreateTemp(), null, args);

    [Fact]
    public async Task PublicListener_AnswersEveryOperatorPath404_InAnySpelling_WithoutCallingTheBackend()
    {
        await using var gateway = await StartAsync();
        string[] spellings = [.. OperatorPaths, "/METRICS", "/Gateway/Status", "/metrics/", "//metrics", "/gateway/./stats", "/gateway/anything", "/gateway"];
        foreach (var path in spellings)
        {
            using var response = await gateway.Client.GetAsync(new Uri(gateway.BaseUrl + path));   // absolute: "//metrics" is a path here
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{path}: {(int)response.StatusCode}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        Assert.DoesNotContain(_backend.Recording.Requests, r => !r.Path.StartsWith("/health") && !r.Path.StartsWith("/internal/"));
    }

    [Fact]
    public async Task OperatorListener_ServesTheOperatorEndpointsToLoopback_AndProxiesNothing()
    {
        await using var gateway = await StartAsync();
        foreach (var path in OperatorPaths)
        {
            using var response = await gateway.AdminClient.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode}");
        }
        foreach (var path in new[] { "/auth/me", "/users/me/sessions", "/anything" })
        {
            using var response = await gateway.AdminClient.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{path}: {(int)response.StatusCode}");
        }
        Assert.Equal(HttpStatusCode.OK, (await gateway.AdminClient.GetAsync("/health")).StatusCode);
        Assert.DoesNotContain(_backend.Recording.Requests, r => !r.Path.StartsWith("/health") && !r.Path.StartsWith("/internal/"));
    }

    [Fact]
    public async Task OperatorListener_ALoopbackPeerNamingAnotherHost_IsNotAnOperator_DnsRebinding()
    {
        // A page the operator opened on this host rebinds its own name to 127.0.0.1 and reads the operator endpoints as
        // same-origin: the peer is loopback, but the browser sends the page's name in Host.
        await using var gateway = await StartAsync();
        int port = gateway.AdminClient.BaseAddress!.Port;
        foreach (var host in new[] { "attacker.example", $"attacker.example:{port}", "127.0.0.1.nip.io", "10.0.0.1" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/gateway/config");
            request.Headers.Host = host;
            using var response = await gateway.AdminClient.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{host}: {(int)response.StatusCode}");
        }
        foreach (var host in new[] { "localhost", $"localhost:{port}", $"127.0.0.1:{port}", $"[::1]:{port}", "grafana.localhost" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/gateway/config");
            request.Headers.Host = host;
            using var response = await gateway.AdminClient.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{host}: {(int)response.StatusCode}");
        }
    }

    [Fact]
    public async Task Dashboard_IsServedWithAPolicyAllowingOnlyItsOwnScript()
    {
        await using var gateway = await StartAsync();
        using var response = await gateway.AdminClient.GetAsync("/gateway/dashboard");
        string policy = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        string page = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        int start = page.IndexOf("<script>", StringComparison.Ordinal) + "<script>".Length;
        string script = page[start..page.IndexOf("</script>", start, StringComparison.Ordinal)];
        string hash = Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(script)));
        Assert.Contains($"script-src 'sha256-{hash}'", policy);
        Assert.Contains("default-src 'none'", policy);
        Assert.Contains("frame-ancestors 'none'", policy);
    }

    [Fact]
    public async Task OperatorListenerBeyondLoopback_RequiresTheKeyOnEveryRequest_LoopbackIncluded()
    {
        int port = FreePort.Next();
        await using var gateway = await StartAsync($"--Admin:Url=http://0.0.0.0:{port}", $"--Admin:Key={Key}");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        foreach (var path in OperatorPaths)
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await http.GetAsync(path)).StatusCode);
            using var wrong = new HttpRequestMessage(HttpMethod.Get, path) { Headers = { { "X-Admin-Key", Key + "x" } } };
            Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(wrong)).StatusCode);
            using var right = new HttpRequestMessage(HttpMethod.Get, path) { Headers = { { "X-Admin-Key", Key } } };
            Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(right)).StatusCode);
        }
    }

    [Fact]
    public async Task OperatorListenerBeyondLoopback_WithoutAKey_DoesNotStart_AndSaysWhatToSet()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => StartAsync($"--Admin:Url=http://0.0.0.0:{FreePort.Next()}"));
        Assert.Contains("listens beyond loopback", error.Message);
        Assert.Contains("set Admin:Key", error.Message);
    }

    [Fact]
    public async Task GatewayProcess_OperatorListenerBeyondLoopbackWithoutAKey_ExitsOneWithTheMessageAndNoStackTrace()
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "gateway.dll"));
        psi.ArgumentList.Add($"--urls=http://127.0.0.1:{FreePort.Next()}");
        psi.ArgumentList.Add($"--Admin:Url=http://0.0.0.0:{FreePort.Next()}");
        psi.ArgumentList.Add("--Admin:Key=");
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(cts.Token);
        string output = await stdout + await stderr;

        Assert.Equal(1, process.ExitCode);
        Assert.Contains("set Admin:Key (at least 16 characters, sent as X-Admin-Key), or bind Admin:Url to 127.0.0.1", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public async Task OperatorListenerOnThePublicPort_DoesNotStart()
    {
        int port = FreePort.Next();
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            StartAsync($"--urls=http://127.0.0.1:{port}", $"--Admin:Url=http://127.0.0.1:{port}"));
        Assert.Contains($"uses port {port}, which the public listener uses too", error.Message);
    }
}
