namespace Gateway.Observability;

/// <summary>Circuit breaker state, with the numeric values exported by <c>gateway.breaker.state</c>.</summary>
internal enum BreakerState
{
    Closed = 0,
    HalfOpen = 1,
    Open = 2,
}

/// <summary>One breaker's state: <paramref name="Name"/> is a cluster id, or <c>redis</c>.</summary>
internal readonly record struct BreakerStateInfo(string Name, BreakerState State);

/// <summary>
/// Reports breaker states for the <c>gateway.breaker.state</c> gauge and <c>/gateway/status</c>. Register as many as
/// needed (<c>services.AddSingleton&lt;IBreakerStateSource, X&gt;()</c>); the Redis one is built in.
/// </summary>
internal interface IBreakerStateSource
{
    IReadOnlyList<BreakerStateInfo> GetBreakerStates();
}
