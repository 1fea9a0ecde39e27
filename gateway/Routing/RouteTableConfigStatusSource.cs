using Gateway.Observability;
using Gateway.Routing.Diff;
using Microsoft.Extensions.Options;

namespace Gateway.Routing;

/// <summary>The route-class reload outcome, as <c>/gateway/status</c> and the dashboard show it.</summary>
internal sealed class RouteTableConfigStatusSource(IRouteTable routes, IOptions<RouteClassOptions> options, ConfigChangeAudit changes) : IConfigStatusSource
{
    // Resolved once, by the same rule the start-up load and the file watcher use.
    private readonly string _path = RouteClassOptions.Resolve(options.Value.Path);

    public ConfigStatusSnapshot GetConfigStatus()
    {
        var last = routes.LastReload;
        var rejected = routes.LastRejected is { } r ? new RejectedConfigSnapshot(r.AttemptedVersion, r.At, r.Errors) : null;
        return new ConfigStatusSnapshot(routes.Current.Version, last.At, last.Ok, last.Errors, _path, last.AttemptedVersion, rejected,
            changes.LastChange, changes.LastWeakening);
    }
}
