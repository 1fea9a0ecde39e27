using System.ComponentModel.DataAnnotations;

namespace Backend.Users;

/// <summary>Per-account and per-IP failed-login limits (in-process). Section <c>LoginThrottle</c>.</summary>
internal sealed class LoginThrottleOptions
{
    /// <summary>Failed logins per normalised email per window. <value>The default is 5.</value></summary>
    [Range(1, 10000)] public int MaxFailuresPerAccount { get; set; } = 5;

    /// <summary>
    /// Failed logins per normalised email per window from clients holding a valid device token, all devices together:
    /// bounds what several stolen tokens of one account buy, and strangers without a token cannot spend it.
    /// <value>The default is 25.</value>
    /// </summary>
    [Range(1, 100000)] public int MaxDeviceFailuresPerAccount { get; set; } = 25;

    /// <summary>Failed logins per client IP per window. <value>The default is 20.</value></summary>
    [Range(1, 100000)] public int MaxFailuresPerIp { get; set; } = 20;

    /// <summary>The fixed window. <value>The default is 15 minutes.</value></summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Upper bound of tracked keys (memory bound). <value>The default is 100000.</value></summary>
    [Range(100, 10_000_000)] public int MaxTrackedKeys { get; set; } = 100_000;
}
