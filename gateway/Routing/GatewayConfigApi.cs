using System.Net;

namespace Gateway.Routing;

/// <summary><c>GET /gateway/config</c>: the active route-class version and the last reload result. Loopback callers only.</summary>
internal static class GatewayConfigApi
{
    public static void MapGatewayConfig(this IEndpointRouteBuilder app) =>
        app.MapGet("/gateway/config", (HttpContext context, IRouteTable table) =>
        {
            var remote = context.Connection.RemoteIpAddress;
            if (remote is null || !IPAddress.IsLoopback(remote)) return Results.NotFound();
            var s = table.Current;
            return Results.Json(new ConfigView(s.Version, s.DefaultClass.Name, [.. s.Classes.Keys], [.. s.Routes.Keys], table.LastReload),
                GatewayJsonContext.Default.ConfigView);
        }).WithMetadata(new RouteClassMetadata("health"));

    internal sealed record ConfigView(string Version, string DefaultClass, string[] Classes, string[] Routes, ConfigReloadStatus LastReload);
}
