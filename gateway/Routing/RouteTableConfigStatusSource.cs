using Gateway.Observability;

namespace Gateway.Routing;

/// <summary>The route-class reload outcome, as <c>/gateway/status</c> shows it.</summary>
internal sealed class RouteTableConfigStatusSource(IRouteTable routes) : IConfigStatusSource
{
    public ConfigStatusSnapshot GetConfigStatus()
    {
        var last = routes.LastReload;
        return new ConfigStatusSnapshot(routes.Current.Version, last.At, last.Ok, last.Errors);
    }
}
