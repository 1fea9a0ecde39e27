using Gateway.Observability;

namespace Gateway.Health;

/// <summary>The backend's health as the readiness probe last saw it, for <c>/gateway/status</c>.</summary>
internal sealed class ReadinessBackendHealthSource(ReadinessProbe probe) : IBackendHealthSource
{
    public BackendHealthSnapshot GetBackendHealth()
    {
        var state = probe.Current;
        return new BackendHealthSnapshot(state.BackendReady, state.CheckedAt == DateTimeOffset.MinValue ? null : state.CheckedAt,
            state.BackendReady ? "GET /health answered" : "GET /health failed or not probed yet");
    }
}
