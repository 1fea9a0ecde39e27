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

    /// <summary>
    /// IPv6 clients are counted per network of this many leading bits by <see cref="MaxFailuresPerIp"/>: one client
    /// usually holds a whole /64 and can try from any address in it (<see cref="Gateway.Contracts.ClientNetworks"/>).
    /// 128 counts every address alone. <value>The default is 64.</value>
    /// </summary>
    [Range(Gateway.Contracts.ClientNetworks.MinIpv6PrefixLength, 128)]
    public int Ipv6PrefixLength { get; set; } = Gateway.Contracts.ClientNetworks.DefaultIpv6PrefixLength;

    /// <summary>The fixed window. <value>The default is 15 minutes.</value></summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Upper bound of tracked keys (memory bound). <value>The default is 100000.</value></summary>
    [Range(100, 10_000_000)] public int MaxTrackedKeys { get; set; } = 100_000;
}
