namespace Gateway.Resilience;

/// <summary>
/// Per-tier concurrency limits. Section <c>LoadShedding</c>. A tier missing from <see cref="MaxConcurrency"/>, or with a
/// limit of 0, is never shed.
/// <value>The default is <c>standard</c> 256, <c>critical-auth</c> 256; <c>ultra-fast</c> (health) is never shed.</value>
/// </summary>
internal sealed class TierLoadSheddingOptions
{
    /// <summary>Tier name → maximum requests in flight in that tier.</summary>
    public Dictionary<string, int> MaxConcurrency { get; set; } = new(StringComparer.OrdinalIgnoreCase)
    {
        ["standard"] = 256,
        ["critical-auth"] = 256,
    };

    /// <summary>Seconds sent in <c>Retry-After</c> of a shed request. <value>The default is 1.</value></summary>
    [System.ComponentModel.DataAnnotations.Range(1, 60)]
    public int RetryAfterSeconds { get; set; } = 1;
}
