using System.ComponentModel.DataAnnotations;

namespace Gateway.Observability.Fleet;

/// <summary>Configuration section <c>Observability:Fleet</c>: how this instance shares its statistics with the others.</summary>
internal sealed class FleetOptions
{
    public const string SectionName = "Observability:Fleet";

    /// <summary>Publish this instance's summary to Redis. <value>The default value is true.</value></summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// How often the summary is published. Its key expires after three intervals and an instance is shown stale after
    /// two. <value>The default value is 5 seconds.</value>
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan PublishInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// This instance's name in the fleet view. <value>The default value is null: the host name and the operator
    /// listener's port (unique per host), e.g. <c>edge-1:9080</c>.</value>
    /// </summary>
    [MaxLength(100)]
    public string? InstanceId { get; set; }
}
