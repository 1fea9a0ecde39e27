using Gateway.Observability;
using Polly.CircuitBreaker;

namespace Gateway.Resilience;

/// <summary>Per-cluster breaker states for the <c>gateway.breaker.state</c> gauge and <c>/gateway/status</c>.</summary>
internal sealed class ResilienceBreakerStateSource(IBreakerStates breakers) : IBreakerStateSource
{
    public IReadOnlyList<BreakerStateInfo> GetBreakerStates()
    {
        var result = new List<BreakerStateInfo>();
        foreach (var (name, state) in breakers.Snapshot())
            result.Add(new BreakerStateInfo(name, state switch
            {
                CircuitState.Closed => BreakerState.Closed,
                CircuitState.HalfOpen => BreakerState.HalfOpen,
                _ => BreakerState.Open,
            }));
        return result;
    }
}
