namespace Gateway.Observability;

/// <summary>The gateway's timed stages; each is a span and a slot in <see cref="RequestTelemetryFeature"/>.</summary>
internal enum GatewayStage
{
    Classify = 0,
    ValidateSession = 1,
    CacheLookup = 2,
    RateLimit = 3,
    Proxy = 4,
}
