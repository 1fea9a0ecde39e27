using System.ComponentModel.DataAnnotations;

namespace Gateway.RateLimiting;

/// <summary>Distributed rate limiting. Section <c>RateLimiting</c>.</summary>
internal sealed class RateLimitingOptions
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
    /// IPv6 clients are counted per network of this many leading bits, by the <c>ip</c> and <c>ip+account</c> policies and
    /// by the load shedder's per-client share: one client usually holds a whole /64 and can send from any address in it
    /// (<see cref="Gateway.Contracts.ClientNetworks"/>). 128 counts every address alone. <value>The default is 64.</value>
    /// </summary>
    [Range(Gateway.Contracts.ClientNetworks.MinIpv6PrefixLength, 128, ErrorMessage = "RateLimiting:Ipv6PrefixLength must be between {1} and {2}.")]
    public int Ipv6PrefixLength { get; set; } = Gateway.Contracts.ClientNetworks.DefaultIpv6PrefixLength;

    /// <summary>
    /// Largest login body read to find the target account (<c>ip+account</c>); a larger one is refused 413, since the
    /// backend would bind an account the gateway did not count. <value>The default is 4096 bytes.</value>
    /// </summary>
    [Range(256, 65536)] public int MaxLoginBodyBytes { get; set; } = 4096;

    /// <summary>
    /// Whether each instance leases tokens from Redis in batches and admits from them locally (one Redis call per lease
    /// instead of per request; see docs/policies.md). False makes every decision one Redis call, as before leases.
    /// <value>The default is true.</value>
    /// </summary>
    public bool Leasing { get; set; } = true;

    /// <summary>
    /// The largest lease is <c>limit / LeaseDivisor</c> tokens (token bucket: <c>min(limit, burst) / LeaseDivisor</c>), at
    /// least 1. Larger leases save more calls and can strand more tokens on an instance that stops using them.
    /// <value>The default is 8.</value>
    /// </summary>
    [Range(1, 1_000_000)] public int LeaseDivisor { get; set; } = 8;

    /// <summary>
    /// Most partitions one instance keeps lease state for; expired entries are swept, and partitions beyond this pay one
    /// Redis call per request. <value>The default is 100,000 (a few hundred bytes each).</value>
    /// </summary>
    [Range(1, 100_000_000)] public int MaxLeasedPartitions { get; set; } = 100_000;

    /// <summary>
    /// Policies by name. Used when no route table is registered (tests, embedding); the gateway itself resolves the
    /// policies of the route-class file instead (<c>RouteTableRateLimitRuleResolver</c>).
    /// </summary>
    public Dictionary<string, RateLimitPolicyConfig> Policies { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}

/// <summary>One policy in config: <c>{algorithm, limit, windowSeconds, burst?, partition}</c>.</summary>
internal sealed class RateLimitPolicyConfig
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
