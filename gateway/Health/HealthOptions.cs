namespace Gateway.Health;

/// <summary>Readiness probing. Section <c>Health</c>.</summary>
public sealed class HealthOptions
{
    /// <summary>How often Redis and the backend are probed. <value>The default is 1 second.</value></summary>
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Time-box of the backend health call. <value>The default is 1 second.</value></summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(1);
}
