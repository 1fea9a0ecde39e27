using System.Collections.Frozen;
using System.ComponentModel.DataAnnotations;
using Gateway.Pipeline;
using Microsoft.Extensions.Options;

namespace Gateway.Caching;

/// <summary>
/// A response cache policy a route class opts into. <paramref name="VaryByOrg"/>: the response depends on the
/// organisation, so entries are tagged with it (the selected one, else every organisation of the principal) and an
/// <c>org</c> invalidation evicts them. The selected organisation is part of the key either way.
/// </summary>
internal sealed record ResponseCachePolicy(string Name, TimeSpan Ttl, bool VaryByOrg);

/// <summary>Finds the cache policy of a request; null means the response is never cached.</summary>
internal interface IResponseCachePolicyResolver
{
    ResponseCachePolicy? Resolve(HttpContext context);
}

/// <summary>Output cache settings. Section <c>ResponseCaching</c>.</summary>
internal sealed class ResponseCachingOptions
{
    /// <summary>Policies by name, as route classes reference them: <c>{ttlSeconds, varyByOrg}</c>.</summary>
    public Dictionary<string, ResponseCachePolicyConfig> Policies { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Most entries the in-process L1 holds. <value>The default is 10 000.</value></summary>
    [Range(0, 10_000_000)] public int L1MaxEntries { get; set; } = 10_000;

    /// <summary>Most payload bytes the L1 holds. <value>The default is 64 MiB.</value></summary>
    [Range(0, long.MaxValue)] public long L1MaxBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// Upper bound of an L1 entry's life. An invalidation missed while Redis pub/sub was down is healed by the
    /// subscription's return (<see cref="TieredOutputCacheStore.DistrustEntriesWrittenBefore"/>), not by this: an expired
    /// L1 copy was refilled from its Redis copy, which lives for the policy's TTL.
    /// <value>The default is 60 seconds.</value>
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan L1MaxTtl { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Largest response body stored. <value>The default is 256 KiB.</value></summary>
    [Range(1024, 64L * 1024 * 1024)] public long MaximumBodySize { get; set; } = 256 * 1024;
}

/// <summary>One cache policy in config.</summary>
internal sealed class ResponseCachePolicyConfig
{
    /// <summary>Time to live of an entry (a backend <c>max-age</c> caps it). Required, 1..86400.</summary>
    [Range(1, 86_400)] public int TtlSeconds { get; set; }
    /// <summary>Whether the response depends on the organisation. <value>The default is false.</value></summary>
    public bool VaryByOrg { get; set; }
}

/// <summary>Default resolver: <see cref="GatewayRequestFeature.CachePolicy"/> looked up in <see cref="ResponseCachingOptions.Policies"/>.</summary>
internal sealed class FeatureResponseCachePolicyResolver : IResponseCachePolicyResolver
{
    private readonly FrozenDictionary<string, ResponseCachePolicy> _policies;

    public FeatureResponseCachePolicyResolver(IOptions<ResponseCachingOptions> options)
    {
        var policies = new Dictionary<string, ResponseCachePolicy>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, p) in options.Value.Policies)
            policies[name] = new ResponseCachePolicy(name, TimeSpan.FromSeconds(p.TtlSeconds), p.VaryByOrg);
        _policies = policies.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }

    public ResponseCachePolicy? Resolve(HttpContext context) =>
        GatewayRequestFeature.Of(context)?.CachePolicy is { } name && _policies.TryGetValue(name, out var p) ? p : null;
}
