using System.ComponentModel.DataAnnotations;

namespace Backend.Sessions;

/// <summary>Session lifetimes and background jobs. Section <c>Sessions</c>.</summary>
internal sealed class SessionOptions
{
    /// <summary>Absolute lifetime of a session from login. <value>The default is 7 days.</value></summary>
    [Range(typeof(TimeSpan), "00:00:01", "365.00:00:00")]
    public TimeSpan AbsoluteLifetime { get; set; } = TimeSpan.FromDays(7);

    /// <summary>A session without activity for this long is dead. <value>The default is 30 minutes.</value></summary>
    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00")]
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>How often buffered last-seen updates are written in one UPDATE. <value>The default is 5 seconds.</value></summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan LastSeenFlushInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often expired and revoked sessions are deleted. <value>The default is 5 minutes.</value></summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "1.00:00:00")]
    public TimeSpan CleanupInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Rows deleted per clean-up statement. <value>The default is 1000.</value></summary>
    [Range(1, 100000)] public int CleanupBatchSize { get; set; } = 1000;

    /// <summary>Revoked sessions are kept this long (visible in audit investigations) before deletion. <value>The default is 1 day.</value></summary>
    [Range(typeof(TimeSpan), "00:00:00", "365.00:00:00")]
    public TimeSpan RevokedRetention { get; set; } = TimeSpan.FromDays(1);
}
