using Gateway.Tests.Support;
using TestInfrastructure;

namespace Gateway.Tests.Hostile;

/// <summary>
/// The Hostile suites' set-up: the real gateway with no Redis (these suites test the edge, not sessions) in front of
/// a recording backend, with the suite's own route file and command-line overrides. Raw-socket tests use <see cref="Port"/>.
/// </summary>
internal sealed class HostileGateway : IAsyncDisposable
{
    /// <summary>A Redis address nothing listens on.</summary>
    public const string NoRedis = "127.0.0.1:1,abortConnect=false";

    private HostileGateway(RecordingBackend backend, GatewayInstance gateway)
    {
        Backend = backend;
        Gateway = gateway;
        Port = new Uri(gateway.BaseUrl).Port;
    }

    public RecordingBackend Backend { get; }
    public GatewayInstance Gateway { get; }
    public int Port { get; }

    /// <summary>Starts a gateway over <paramref name="routesJson"/> (a route-class file's text).</summary>
    public static Task<HostileGateway> StartAsync(string routesJson, params string[] args) =>
        StartWithRouteFileAsync(RouteFiles.WriteTemp(routesJson), args);

    public static async Task<HostileGateway> StartWithRouteFileAsync(string routeFile, params string[] args)
    {
        var backend = await RecordingBackend.StartAsync();
        try
        {
            return new HostileGateway(backend, await GatewayInstance.StartAsync(backend.BaseUrl, NoRedis, routeFile, null, args));
        }
        catch
        {
            await backend.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// One anonymous class, <c>open</c>, for every path under <c>/a/</c>: whatever a parser let through would be forwarded,
    /// so the recording backend shows it.
    /// </summary>
    public static string OpenRoutes(string version, int timeoutMs = 5000) => $$"""
        { "version": "{{version}}", "defaultClass": "open",
          "classes": { "open": { "tier": "standard", "budgetMs": 200, "auth": "anonymous", "timeoutMs": {{timeoutMs}} } },
          "routes": { "all": { "path": "/a/{**rest}", "class": "open", "cluster": "backend" } },
          "clusters": { "backend": { "address": "" } } }
        """;

    /// <summary>
    /// <see cref="OpenRoutes"/> plus a session class, <c>signed-in</c>, for every path under <c>/s/</c>: for probes that
    /// must show a refusal comes before sessions (no token) and holds for a signed-in client too.
    /// </summary>
    public static string OpenAndSessionRoutes(string version) => $$"""
        { "version": "{{version}}", "defaultClass": "open",
          "classes": { "open": { "tier": "standard", "budgetMs": 200, "auth": "anonymous", "timeoutMs": 5000 },
                       "signed-in": { "tier": "standard", "budgetMs": 200, "auth": "session", "timeoutMs": 5000 } },
          "routes": { "open": { "path": "/a/{**rest}", "class": "open", "cluster": "backend" },
                      "session": { "path": "/s/{**rest}", "class": "signed-in", "cluster": "backend" } },
          "clusters": { "backend": { "address": "" } } }
        """;

    public async ValueTask DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Backend.DisposeAsync();
    }
}
