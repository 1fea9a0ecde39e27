namespace Gateway.Routing;

/// <summary>
/// The current route-class configuration. Extension point for the rate-limit, cache and observability stages:
/// look up the policy named on <c>GatewayRequestFeature</c> in <see cref="Current"/>.
/// </summary>
internal interface IRouteTable
{
    /// <summary>The active snapshot; replaced atomically by a valid hot reload.</summary>
    RouteClassSnapshot Current { get; }

    /// <summary>
    /// The class a matched route names (its metadata), else the default class. A route matched just before a reload can
    /// name a class the new snapshot no longer has (renamed); <see cref="RouteTable"/> then answers the previous snapshot's.
    /// </summary>
    RouteClass ClassOf(string? name) => Current.ClassOrDefault(name);

    /// <summary>
    /// The snapshot a matched route was built from (its <see cref="ProxyConfigBuilder.SnapshotKey"/> metadata) and the
    /// class it names there. Classes and policies are looked up in that one snapshot: a request matched on the routes
    /// of the previous file and classified after the swap would otherwise get whatever the new file calls by that name.
    /// </summary>
    (RouteClassSnapshot Snapshot, RouteClass Class) Resolve(string? generation, string? name) => (Current, ClassOf(name));

    /// <summary>The result of the last (re)load attempt, for status output.</summary>
    ConfigReloadStatus LastReload { get; }

    /// <summary>The last rejected load (its attempted version and errors), kept after later successes; null when none since start.</summary>
    ConfigReloadStatus? LastRejected => null;

    /// <summary>Raised after a new snapshot became active.</summary>
    event Action<RouteClassSnapshot>? Changed;
}
