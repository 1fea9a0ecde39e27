using Gateway.Observability;

namespace Gateway.Routing;

/// <summary>
/// <c>GET /gateway/config</c>: the active route-class version and the last reload result. An operator endpoint: on the
/// operator listener only, admin callers only (<see cref="AdminAccessFilter"/>), like <c>/gateway/status</c>.
/// </summary>
internal static class GatewayConfigApi
{
    public static void MapGatewayConfig(this IEndpointRouteBuilder app) =>
        app.MapGet("/gateway/config", (IRouteTable table) =>
        {
            var s = table.Current;
            return Results.Json(new ConfigView(s.Version, s.DefaultClass.Name, [.. s.Classes.Keys], [.. s.Routes.Keys], table.LastReload),
                GatewayJsonContext.Readable.ConfigView);
        }).AddEndpointFilter<AdminAccessFilter>().WithMetadata(new RouteClassMetadata("health"));

    internal sealed record ConfigView(string Version, string DefaultClass, string[] Classes, string[] Routes, ConfigReloadStatus LastReload);
}
