using Gateway;
using Gateway.Trust;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TestInfrastructure;

namespace Gateway.Tests.Support;

/// <summary>The real gateway (GatewayApp) on a real Kestrel port, configured by the test.</summary>
public sealed class GatewayInstance : IAsyncDisposable
{
    /// <summary>Made per test run, never committed: the gateway refuses repository secrets outside Development.</summary>
    public static readonly string InternalSecret = GatewaySecrets.Generate();
    public const string SigningKeyId = "test-k1";
    public static readonly string SigningSecret = GatewaySecrets.Generate();

    /// <summary>The trust settings every test gateway starts with (the tests' route files have the one cluster 'backend').</summary>
    public static string[] TrustArgs =>
    [
        $"--Trust:InternalSecret={InternalSecret}",
        $"--Signing:Clusters:backend:Keys:0:Id={SigningKeyId}", $"--Signing:Clusters:backend:Keys:0:Secret={SigningSecret}",
    ];

    /// <summary>Verifies a request the backend received as a backend team would: the cluster's key, v2 canonical string.</summary>
    public static GatewaySignature Verifier => new(SigningKeyId, SigningSecret);

    private readonly WebApplication _app;

    private GatewayInstance(WebApplication app, string baseUrl, string adminUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
        AdminUrl = adminUrl;
        Client = new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = new Uri(baseUrl) };
        AdminClient = new HttpClient { BaseAddress = new Uri(adminUrl) };
    }

    public string BaseUrl { get; }
    public HttpClient Client { get; }
    /// <summary>The operator listener (<c>/metrics</c>, <c>/gateway/*</c>), on a free loopback port of its own.</summary>
    public string AdminUrl { get; }
    public HttpClient AdminClient { get; }
    public IServiceProvider Services => _app.Services;

    public static async Task<GatewayInstance> StartAsync(string backendUrl, string redis, string routeFile,
        Action<WebApplicationBuilder>? configure = null, params string[] extraArgs)
    {
        int port = FreePort.Next(), adminPort = FreePort.Next();
        string[] args =
        [
            $"--urls=http://127.0.0.1:{port}", $"--Admin:Url=http://127.0.0.1:{adminPort}", $"--Backend:BaseUrl={backendUrl}", $"--Redis:Configuration={redis}",
            $"--RouteClasses:Path={routeFile}", "--RouteClasses:ReloadDebounce=00:00:00.100",
            "--Health:ProbeInterval=00:00:00.200", .. TrustArgs, .. extraArgs,
        ];
        var builder = GatewayApp.CreateBuilder(args);
        builder.Logging.ClearProviders();
        configure?.Invoke(builder);
        var app = GatewayApp.Configure(builder.Build());
        await app.StartAsync();
        return new GatewayInstance(app, $"http://127.0.0.1:{port}", $"http://127.0.0.1:{adminPort}");
    }

    public T Get<T>() where T : notnull => _app.Services.GetRequiredService<T>();

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        AdminClient.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
