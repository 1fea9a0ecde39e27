using Microsoft.AspNetCore.Builder;

namespace Gateway.Tests.Support;

/// <summary>
/// A gateway reading its route classes from a temporary copy of the shipped file, in front of a fake session backend:
/// what the hot-reload tests start, edit (<see cref="File"/>) and watch.
/// </summary>
public sealed class GatewayOnRouteFile : IAsyncDisposable
{
    private GatewayOnRouteFile(FakeSessionBackend backend, string file, GatewayInstance gateway) =>
        (Backend, File, Gateway) = (backend, file, gateway);

    public FakeSessionBackend Backend { get; }

    /// <summary>The route-class file the gateway watches; writing it triggers a reload.</summary>
    public string File { get; }

    public GatewayInstance Gateway { get; }

    public static async Task<GatewayOnRouteFile> StartAsync(string redis, Action<WebApplicationBuilder>? configure = null)
    {
        var backend = await FakeSessionBackend.StartAsync();
        var file = RouteFiles.CreateTemp();
        var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, redis, file, configure);
        return new GatewayOnRouteFile(backend, file, gateway);
    }

    public async ValueTask DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Backend.DisposeAsync();
    }
}
