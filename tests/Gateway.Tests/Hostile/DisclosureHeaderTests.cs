using Gateway.Tests.Support;
using Microsoft.AspNetCore.Http;
using TestInfrastructure;

namespace Gateway.Tests.Hostile;

/// <summary>
/// The edge does not say what software runs behind it or in it: <c>Server</c>, <c>X-Powered-By</c>,
/// <c>X-AspNet-Version</c> and <c>X-AspNetMvc-Version</c> never reach a client, on proxied answers or the gateway's own,
/// while the backend's other headers pass and a route can still set one of them on purpose.
/// </summary>
public sealed class DisclosureHeaderTests : IAsyncLifetime
{
    private RecordingBackend _backend = null!;
    private GatewayInstance _gateway = null!;

    public async ValueTask InitializeAsync()
    {
        _backend = await RecordingBackend.StartAsync();
        // The backend is Kestrel, which adds "Server: Kestrel" by itself; the rest it sets like an old app server would.
        _backend.Handler = ctx =>
        {
            ctx.Response.Headers["X-Powered-By"] = "PHP/5.4.0";
            ctx.Response.Headers["X-AspNet-Version"] = "4.0.30319";
            ctx.Response.Headers["X-AspNetMvc-Version"] = "5.2";
            ctx.Response.Headers["X-Backend-Note"] = "kept";
            return ctx.Response.WriteAsync("ok");
        };
        string routes = RouteFiles.WriteTemp("""
            { "version": "disclosure", "defaultClass": "open",
              "classes": { "open": { "tier": "standard", "budgetMs": 200, "auth": "anonymous", "timeoutMs": 5000 } },
              "routes": {
                "public": { "path": "/public/{**rest}", "class": "open", "cluster": "backend" },
                "branded": { "path": "/branded/{**rest}", "class": "open", "cluster": "backend",
                             "responseHeaders": { "set": { "Server": "edge" } } } },
              "clusters": { "backend": { "address": "" } } }
            """);
        _gateway = await GatewayInstance.StartAsync(_backend.BaseUrl, HostileGateway.NoRedis, routes);
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _backend.DisposeAsync();
    }

    [Theory]
    [InlineData("/public/page")]
    [InlineData("/health")]
    [InlineData("/no-such-route")]
    public async Task Response_NamesNoServerSoftware(string path)
    {
        using var response = await _gateway.Client.GetAsync(path, TestContext.Current.CancellationToken);

        foreach (var name in new[] { "Server", "X-Powered-By", "X-AspNet-Version", "X-AspNetMvc-Version" })
            Assert.False(response.Headers.Contains(name), $"{path} answered with {name}: {string.Join(",", response.Headers.TryGetValues(name, out var v) ? v : [])}");
        if (path == "/public/page") Assert.Equal("kept", Assert.Single(response.Headers.GetValues("X-Backend-Note")));
    }

    [Fact]
    public async Task RouteThatSetsServer_KeepsItsOwnValue()
    {
        using var response = await _gateway.Client.GetAsync("/branded/page", TestContext.Current.CancellationToken);

        Assert.Equal("edge", Assert.Single(response.Headers.GetValues("Server")));
    }
}
