using Gateway.Routing;

namespace Gateway.Streams;

/// <summary>
/// A reload applies to streams already open: one whose route the new file removes, or whose route's class now asks for
/// something else of the client (anonymous or session, the minimum role, the fail mode its revalidation follows), is
/// closed, and its client reconnects under the new file. Until 2026-12-06 open streams kept the class they opened with
/// for as long as they lived: tightening a class to a role, or removing a route, left its WebSockets and event streams
/// open, and anonymous ones were never revalidated at all.
/// </summary>
internal sealed partial class StreamReclassification : IHostedService
{
    public const string Reason = "reclassified";

    private readonly IRouteTable _routes;
    private readonly StreamRegistry _registry;
    private readonly ILogger<StreamReclassification> _logger;

    public StreamReclassification(IRouteTable routes, StreamRegistry registry, ILogger<StreamReclassification> logger)
    {
        _routes = routes;
        _registry = registry;
        _logger = logger;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _routes.Changed += OnChanged;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _routes.Changed -= OnChanged;
        return Task.CompletedTask;
    }

    internal void OnChanged(RouteClassSnapshot snapshot)
    {
        var stale = _registry.Snapshot().Where(s => NoLongerServed(s, snapshot)).ToList();
        int closed = _registry.Close(stale, Reason);
        if (closed > 0) Log.Closed(_logger, closed, snapshot.Version);
    }

    private static bool NoLongerServed(OpenStream stream, RouteClassSnapshot snapshot)
    {
        if (stream.RouteId is not { } routeId) return false;
        if (!snapshot.Routes.TryGetValue(routeId, out var route)) return true;
        var now = snapshot.ClassOrDefault(route.Class);
        var then = stream.RouteClass;
        return now.Auth != then.Auth || now.MinimumRole != then.MinimumRole || now.FailMode != then.FailMode;
    }

    private static partial class Log
    {
        [LoggerMessage(4306, LogLevel.Information, "Closed {Count} open stream(s) whose route the route-class file version {Version} removed or whose class it changed.", EventName = "StreamsReclassified")]
        public static partial void Closed(ILogger logger, int count, string version);
    }
}
