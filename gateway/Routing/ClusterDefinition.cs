namespace Gateway.Routing;

/// <summary>
/// A cluster (section <c>clusters</c>): one service, reached through one or more destinations.
/// </summary>
/// <param name="Name">The key under <c>clusters</c>; also the breaker scope and the signing-key name.</param>
/// <param name="Destinations">Destination id → absolute http(s) URL. From <c>destinations</c>, or one destination
/// <c>primary</c> from the <c>address</c> shorthand, whose empty value means <c>Backend:BaseUrl</c>.</param>
/// <param name="LoadBalancing">A YARP load-balancing policy name. The default is <c>PowerOfTwoChoices</c>.</param>
/// <param name="ActiveHealthCheck">Periodic probes of every destination; null when not configured.</param>
/// <param name="PassiveHealthCheck">Whether YARP's passive (transport failure rate) health check watches proxied requests.</param>
/// <param name="Protocol"><c>auto</c> (the default: HTTP/1.1 to <c>http://</c>, HTTP/2 by ALPN to <c>https://</c>) or
/// <c>h2c</c> (HTTP/2 with prior knowledge to <c>http://</c> destinations, what a cleartext gRPC service needs).</param>
/// <param name="IdleTimeoutSeconds">How long a proxied exchange may see no bytes in either direction before it is cut (YARP's
/// <c>ActivityTimeout</c>); the only time limit of a long-lived stream. Null keeps YARP's default of 100 seconds.</param>
internal sealed record ClusterDefinition(
    string Name, IReadOnlyDictionary<string, string> Destinations, string LoadBalancing = ClusterDefinition.DefaultLoadBalancing,
    ActiveHealthCheck? ActiveHealthCheck = null, bool PassiveHealthCheck = false, string Protocol = ClusterDefinition.ProtocolAuto,
    double? IdleTimeoutSeconds = null)
{
    public const string ProtocolAuto = "auto";
    public const string ProtocolH2c = "h2c";
    public static readonly string[] Protocols = [ProtocolAuto, ProtocolH2c];
    /// <summary>Upper bound of <c>idleTimeoutSeconds</c>: a day; an idle stream held longer is a leak, not a feature.</summary>
    public const double MaxIdleTimeoutSeconds = 86400;

    public const string DefaultLoadBalancing = "PowerOfTwoChoices";
    /// <summary>The destination id the <c>address</c> shorthand produces.</summary>
    public const string ShorthandDestination = "primary";

    /// <summary>Exactly YARP's built-in policy names: a name accepted here must never fail when YARP applies it.</summary>
    public static readonly string[] LoadBalancingPolicies = ["PowerOfTwoChoices", "RoundRobin", "LeastRequests", "Random", "FirstAlphabetical"];

    public bool HasHealthChecks => ActiveHealthCheck is not null || PassiveHealthCheck;
}

/// <summary>An active health check (<c>healthCheck.active</c>): <c>GET</c> <paramref name="Path"/> on each destination.</summary>
/// <param name="Path">Probe path, e.g. <c>/health</c>; a 2xx answer is healthy.</param>
/// <param name="IntervalSeconds">Time between probes; a failed probe removes the destination until one succeeds.</param>
/// <param name="TimeoutSeconds">Probe timeout, below the interval.</param>
internal sealed record ActiveHealthCheck(string Path, double IntervalSeconds, double TimeoutSeconds);
