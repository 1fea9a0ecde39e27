using Gateway.Caching;
using Gateway.Contracts;
using Gateway.Observability;
using Gateway.Routing;
using Gateway.Sessions;

namespace Gateway.Pipeline;

/// <summary>
/// Per-request state the gateway's stages share (classification, principal, timings). One instance per request,
/// set by the first gateway middleware in <c>HttpContext.Features</c>; stages reach it with <see cref="Of"/>.
/// </summary>
internal sealed class GatewayRequestFeature
{
    /// <summary>
    /// This request's feature, or null before the first gateway stage (operator requests, probes). Through the
    /// collection's indexer with a constant type: Kestrel's generic <c>Features.Get&lt;T&gt;()</c> is a generic virtual
    /// call with a cast, and the twenty such lookups of a proxied request were its largest single gateway-owned cost
    /// (docs/performance.md). Stages also find the class, telemetry and cache state here instead of as features of their own.
    /// </summary>
    public static GatewayRequestFeature? Of(HttpContext context) => context.Features[typeof(GatewayRequestFeature)] as GatewayRequestFeature;

    /// <summary>
    /// The matched YARP route carries CORS metadata (its class had a CORS policy when that route table was built). Read
    /// by <c>CorsMiddleware</c>: a hot reload that removed the policy may leave a request matched by the previous table.
    /// </summary>
    public bool RouteHasCors { get; set; }
    /// <summary>The route class (set by classification; the one place stages read it from).</summary>
    public RouteClass? Class { get; set; }
    /// <summary>
    /// The route-class snapshot <see cref="Class"/> comes from (the one the matched route was built from): the class's
    /// rate-limit and cache policies are looked up there, not in a newer file that may have renamed them.
    /// </summary>
    public RouteClassSnapshot? Snapshot { get; set; }
    /// <summary>The request's stage timings; null for requests the telemetry stage does not time.</summary>
    public RequestTelemetryFeature? Telemetry { get; set; }
    /// <summary>Set when the response cache applies to this request (also a feature of its own, for the cache policy).</summary>
    public ResponseCacheState? CacheState { get; set; }

    /// <summary>
    /// The prefix the matched route removes before forwarding (<c>pathRemovePrefix</c>), else null: checks about what the
    /// backend acts on (the organisation in <c>/orgs/{id}</c>, <c>/internal</c>) read the path the backend gets.
    /// </summary>
    public string? RemovedPrefix { get; set; }

    /// <summary>Name of the route class the request was classified into.</summary>
    public string RouteClass { get; set; } = "";
    /// <summary><c>ultra-fast</c>, <c>critical-auth</c> or <c>standard</c>.</summary>
    public string Tier { get; set; } = "";
    public double BudgetMs { get; set; }
    public string? RateLimitPolicy { get; set; }
    public string? CachePolicy { get; set; }
    public string? FailMode { get; set; }
    /// <summary>The YARP cluster of the matched proxy route; null for requests the gateway answers itself.</summary>
    public string? Cluster { get; set; }
    /// <summary>The matched proxy route's id (the response cache keys by it); null for requests the gateway answers itself.</summary>
    public string? RouteId { get; set; }
    /// <summary>True when load shedding refused the request (503), so statistics tell it from a backend's 503.</summary>
    public bool Shed { get; set; }

    /// <summary>The validated principal; null on anonymous routes or before validation.</summary>
    public SessionPrincipal? Principal { get; set; }
    /// <summary>The token hash of the validated session (never the token).</summary>
    public string? TokenHash { get; set; }
    /// <summary>
    /// The invalidations L1 had seen when this request's session validation began: an invalidation handled after it
    /// may have come too late for the validation but before a stream of the request was registered
    /// (<see cref="Streams.StreamMiddleware"/> asks <see cref="SessionValidator.Overtaken"/>).
    /// </summary>
    public RecentInvalidations.Moment ValidationBegan { get; set; }
    /// <summary>Organisation selected by the client and verified against the principal.</summary>
    public string? OrgId { get; set; }
    public string? OrgRole { get; set; }

    /// <summary>Where the session was validated from: l1, l2, backend, negative, rejected.</summary>
    public string? ValidationSource { get; set; }
    /// <summary>
    /// The client address as <see cref="RateLimiting.ClientIpResolver"/> determined it, once per request: admission,
    /// the rate limiter and the signature all need it, and behind trusted proxies each would parse X-Forwarded-For again.
    /// </summary>
    public System.Net.IPAddress? ClientIp { get; set; }
    public bool ClientIpResolved { get; set; }
    /// <summary>The key per-client limits count the client by (<see cref="RateLimiting.ClientIpResolver.PartitionKey"/>).</summary>
    public string? ClientNetworkKey { get; set; }
    /// <summary>
    /// The tier slot and class deadline admission took for this request; the telemetry stage's frame releases them when
    /// the request ends (<see cref="Resilience.AdmissionMiddleware"/>).
    /// </summary>
    internal Resilience.AdmissionHold Admission { get; set; }
    /// <summary>
    /// The backend answered this HTTP/2 WebSocket with a 2xx that is not an upgrade; the proxy stage answers 400 instead
    /// (<see cref="Proxy.RefusedWebSocketTransformProvider"/>).
    /// </summary>
    public bool WebSocketRefused { get; set; }
    /// <summary>
    /// The client asked for a stream (<see cref="Streams.StreamMiddleware"/>) and the upstream has not answered it as one
    /// yet: until it does, the request is an ordinary one, under the class's deadline and holding its tier's slot
    /// (<see cref="Streams.StreamAnsweredTransformProvider"/>).
    /// </summary>
    public bool StreamOpening { get; set; }
    /// <summary>
    /// The request's time went to its client: its body stalled past the class's deadline (408), or the client's
    /// connection failed or went away while the gateway was reading or forwarding that body. Set where the gateway
    /// knows it (the proxy stage, the login limiter); such a request is not over budget (RequestTelemetryMiddleware).
    /// </summary>
    public bool WaitedOnClient { get; set; }
    /// <summary>Stopwatch timestamp when the gateway received the request.</summary>
    public long StartTimestamp { get; set; }
}
