using System.ComponentModel.DataAnnotations;

namespace Gateway.Health;

/// <summary>Readiness probing. Section <c>Health</c>.</summary>
internal sealed class HealthOptions
{
    public const string SectionName = "Health";

    /// <summary>How often Redis and the backend are probed. <value>The default is 1 second.</value></summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00", ErrorMessage = "Health:ProbeInterval must be between {1} and {2}, e.g. 00:00:01.")]
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Time-box of the backend health call. <value>The default is 1 second.</value></summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00", ErrorMessage = "Health:ProbeTimeout must be between {1} and {2}, e.g. 00:00:01.")]
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(1);
}
