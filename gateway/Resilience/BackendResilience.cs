using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;

namespace Gateway.Resilience;

/// <summary>Breaker state of every backend cluster, for the status endpoint and metrics.</summary>
internal interface IBreakerStates
{
    /// <summary>Cluster name → state, at the moment of the call.</summary>
    IReadOnlyDictionary<string, CircuitState> Snapshot();
}

/// <summary>
/// The resilience state of every backend cluster, created on first use: a circuit breaker (<see cref="ClusterBreaker"/>:
/// connection failures, timeouts, 502/503/504, see <see cref="IsBackendFailure"/>) and a retry budget (retries of
/// idempotent requests after connection failures). <see cref="ResilienceHandler"/> applies them to each call.
/// </summary>
internal sealed class BackendResilience : IBreakerStates
{
    private readonly BackendResilienceOptions _options;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, ClusterPipeline> _clusters = new(StringComparer.OrdinalIgnoreCase);

    // The gateway.breaker.state gauge is owned by Observability.GatewayMetrics, fed through ResilienceBreakerStateSource.
    public BackendResilience(IOptions<BackendResilienceOptions> options, TimeProvider time, IClusterDestinations? destinations = null,
        Routing.IRouteTable? routes = null)
    {
        _options = options.Value;
        _time = time;
        Destinations = destinations;
        if (routes is null) return;
        _routeClusters = Targets(routes.Current);
        routes.Changed += ForgetRemovedClusters;
    }

    private Dictionary<string, string>? _routeClusters;

    /// <summary>
    /// A cluster the route-class file no longer has gets no more calls, so its breaker could never close: an open one
    /// kept <c>/gateway/status</c> unhealthy and <c>gateway_breaker_state</c> at 1 until a restart. A cluster whose
    /// destinations or protocol the file changed is another backend now: what the old one did says nothing about it, and
    /// an operator who fixed a bad address got 503 circuit-open for up to <c>Resilience:BreakDuration</c> after the
    /// fix (until 2026-12-06). Only names the previous file had are forgotten; other callers' pipelines (by request
    /// option) are not the file's to drop.
    /// </summary>
    private void ForgetRemovedClusters(Routing.RouteClassSnapshot snapshot)
    {
        lock (_clusters)
        {
            var now = Targets(snapshot);
            foreach (var (name, target) in _routeClusters!)
                if ((!now.TryGetValue(name, out var current) || current != target) && _clusters.TryRemove(name, out var dropped))
                    dropped.Forgotten = true;
            _routeClusters = now;
        }
    }

    /// <summary>Each cluster's protocol and destinations, in one comparable string.</summary>
    private static Dictionary<string, string> Targets(Routing.RouteClassSnapshot snapshot) =>
        snapshot.Clusters.ToDictionary(c => c.Key, c => c.Value.Protocol + " " + string.Join(" ",
            c.Value.Destinations.OrderBy(d => d.Key, StringComparer.Ordinal).Select(d => d.Key + "=" + d.Value)), StringComparer.OrdinalIgnoreCase);

    public BackendResilienceOptions Options => _options;

    internal TimeProvider Time => _time;

    internal ClusterPipeline Get(string cluster) => _clusters.GetOrAdd(cluster, static (_, self) =>
        new ClusterPipeline(new ClusterBreaker(self._options, self._time), new RetryBudget(self._options.RetryBudgetRatio, self._options.RetryBudgetBurst)), this);

    /// <summary>The clusters' destinations and their health; null when the pipelines are used without YARP (tests).</summary>
    internal IClusterDestinations? Destinations { get; }

    public IReadOnlyDictionary<string, CircuitState> Snapshot()
    {
        var result = new Dictionary<string, CircuitState>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, cluster) in _clusters) result[name] = cluster.Breaker.State;
        return result;
    }

    /// <summary>
    /// The breaker is the cluster's: it opens when the service is down, not when one of its instances is. While health
    /// checks still keep two or more destinations in rotation, a failure is one destination's, and active and passive
    /// health (which take that destination out) handle it; only when at most one is left does it count here. Evaluated
    /// only for failures.
    /// </summary>
    private bool AnotherDestinationAvailable(string cluster) => Destinations is { } d && d.AvailableCount(cluster) > 1;

    /// <summary>Does this outcome count as a failure on the cluster's breaker? See <see cref="AnotherDestinationAvailable"/>.</summary>
    internal bool CountsOnBreaker(string cluster, bool failed) => failed && !AnotherDestinationAvailable(cluster);

    /// <summary>
    /// Counts only answers that say the backend cannot serve anyone right now: 502, 504, and 503 without
    /// <c>Retry-After</c>. Not counted:
    /// <list type="bullet">
    /// <item>4xx: the client's fault by definition.</item>
    /// <item>503 with <c>Retry-After</c>: a healthy backend shedding one expensive endpoint on purpose (the Argon2id
    /// bulkhead on login). Counting it let a login flood open the breaker for every route of the cluster (seen in the
    /// benchmark), turning back-pressure into an outage.</item>
    /// <item>500 and the other 5xx: one request failing on a backend that is up and answering. The breaker is shared by
    /// every client of the cluster, so counting 500s lets one client who finds an input the backend mishandles (it
    /// answered malformed JSON 500 until issue 14) open it for everyone with five requests. A backend that is really
    /// down still opens it through connection failures, timeouts and 502/503/504 (docs/policies.md).</item>
    /// </list>
    /// </summary>
    internal static bool IsBackendFailure(HttpResponseMessage response) => response.StatusCode switch
    {
        HttpStatusCode.BadGateway or HttpStatusCode.GatewayTimeout => true,
        HttpStatusCode.ServiceUnavailable => response.Headers.RetryAfter is null,
        _ => false,
    };

    /// <summary>
    /// True when the backend call failed because reading the client's request body failed: YARP streams the body into
    /// the backend request, so a malformed chunk, a body below Kestrel's minimum data rate or a client resetting its
    /// connection surface as the backend call throwing. Only Kestrel throws these types, and only for the inbound
    /// connection (the backend side is SocketsHttpHandler), so they mark the client's fault exactly.
    /// </summary>
    internal static bool IsClientSideFailure(Exception exception)
    {
        for (var e = exception.InnerException; e is not null; e = e.InnerException)
            if (e is BadHttpRequestException or ConnectionAbortedException or ConnectionResetException) return true;
        return false;
    }

    /// <summary>Only failures where the request certainly never reached the backend are safe to retry.</summary>
    internal static bool IsConnectionFailure(Exception? ex) =>
        ex is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError }
        || IsConnectTimeout(ex);

    /// <summary>
    /// The handler's <c>ConnectTimeout</c> passed: SocketsHttpHandler throws it as a cancellation around a
    /// <see cref="TimeoutException"/> (the handler's own token, not the caller's). It looked like neither a failure nor the
    /// caller's cancellation, so it counted as a success on the breaker (closing a half-open one) and was never failed
    /// over. Only reachable for classes whose timeout is longer than the connect timeout (15 s).
    /// </summary>
    internal static bool IsConnectTimeout(Exception? ex) => ex is OperationCanceledException { InnerException: TimeoutException };

    internal static bool IsIdempotent(string? method) =>
        method is "GET" or "HEAD" or "OPTIONS";

    /// <summary>Is this exception the backend's failure (counted by the breaker), rather than the client's?</summary>
    internal static bool IsBackendFailure(Exception exception) =>
        (exception is HttpRequestException && !IsClientSideFailure(exception)) || IsConnectTimeout(exception);

    internal sealed record ClusterPipeline(ClusterBreaker Breaker, RetryBudget Budget)
    {
        /// <summary>Set when a reload dropped it: handlers that hold it (bound to their cluster) fetch the new one.</summary>
        public volatile bool Forgotten;
    }
}
