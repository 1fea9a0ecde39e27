using Gateway.Observability;
using Microsoft.Extensions.Options;

namespace Gateway.Routing;

/// <summary>
/// <c>GET /gateway/config</c>: the active route-class version and the last reload result. An operator endpoint: on the
/// operator listener only, admin callers only (<see cref="AdminAccessFilter"/>), like <c>/gateway/status</c>.
/// </summary>
internal static class GatewayConfigApi
{
    public static void MapGatewayConfig(this IEndpointRouteBuilder app) =>
        app.MapGet("/gateway/config", (IRouteTable table, IOptions<RouteClassOptions> options) =>
        {
            var s = table.Current;
            return Results.Json(new ConfigView(RouteClassOptions.Resolve(options.Value.Path), s.Version, table.LastReload.AttemptedVersion,
                    s.DefaultClass.Name, [.. s.Classes.Keys], [.. s.Routes.Keys], table.LastReload, table.LastRejected),
                GatewayJsonContext.Readable.ConfigView);
        }).RequireAdminAccess().WithMetadata(RouteClassMetadata.Operator);

    /// <param name="Path">The route-class file in use (absolute).</param>
    /// <param name="AttemptedVersion">The version the last load found in the file; null when it could not be read.</param>
    /// <param name="LastRejected">The last rejected load with its errors, kept after later successes; null when none.</param>
    internal sealed record ConfigView(string Path, string Version, string? AttemptedVersion, string DefaultClass, string[] Classes, string[] Routes,
        ConfigReloadStatus LastReload, ConfigReloadStatus? LastRejected);
}
