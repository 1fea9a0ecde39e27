using System.ComponentModel.DataAnnotations;

namespace Gateway.RateLimiting;

/// <summary>Distributed rate limiting. Section <c>RateLimiting</c>.</summary>
public sealed class RateLimitingOptions
{
    /// <summary>
    /// Number of gateway instances sharing the limits. While Redis is unavailable each instance enforces
    /// <c>limit / InstanceCount</c> locally. <value>The default is 1.</value>
    /// </summary>
    [Range(1, 1000)] public int InstanceCount { get; set; } = 1;

    /// <summary>
    /// Proxies (CIDR, e.g. <c>10.0.0.0/8</c>, or single addresses) whose <c>X-Forwarded-For</c> is believed.
    /// <value>The default is empty: the client IP is always the connection's peer.</value>
    /// </summary>
    public List<string> TrustedProxies { get; set; } = [];

    /// <summary>
    /// Largest login body read to find the target account (<c>ip+account</c>); a larger one is refused 413, since the
    /// backend would bind an account the gateway did not count. <value>The default is 4096 bytes.</value>
    /// </summary>
    [Range(256, 65536)] public int MaxLoginBodyBytes { get; set; } = 4096;

    /// <summary>Policies by name, as route classes reference them. The lead maps the gateway config here.</summary>
    public Dictionary<string, RateLimitPolicyConfig> Policies { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}

/// <summary>One policy in config: <c>{algorithm, limit, windowSeconds, burst?, partition}</c>.</summary>
public sealed class RateLimitPolicyConfig
{
    /// <summary><c>sliding-window</c> or <c>token-bucket</c>. <value>The default is <c>sliding-window</c>.</value></summary>
    public string Algorithm { get; set; } = "sliding-window";
    /// <summary>Requests allowed per window. Required, at least 1.</summary>
    [Range(1, 1_000_000)] public int Limit { get; set; }
    /// <summary>Window length in seconds. Required, at least 1.</summary>
    [Range(1, 86_400)] public int WindowSeconds { get; set; }
    /// <summary>Token-bucket size. <value>The default is <see cref="Limit"/>.</value></summary>
    [Range(1, 1_000_000)] public int? Burst { get; set; }
    /// <summary><c>ip</c>, <c>user</c> or <c>ip+account</c>. <value>The default is <c>ip</c>.</value></summary>
    public string Partition { get; set; } = "ip";
}
