namespace Gateway.Caching;

/// <summary>Per-request cache state shared by the header middleware and the output cache policy.</summary>
internal sealed class ResponseCacheState(ResponseCachePolicy policy, long evictionGeneration)
{
    public ResponseCachePolicy Policy { get; } = policy;
    /// <summary>The store's eviction generation when the request began: a response computed after an eviction of its tags began is not stored.</summary>
    public long EvictionGeneration { get; } = evictionGeneration;
    /// <summary>Set when the output cache served the response from the store.</summary>
    public bool Hit { get; set; }
    /// <summary>The backend's <c>Cache-Control</c>, kept before the client-facing value replaces it.</summary>
    public string? BackendCacheControl { get; set; }
    /// <summary>
    /// The response headers the gateway had set for this request before the cache ran (<c>X-Route-Class</c>, the
    /// <c>RateLimit</c> pair): a hit copies the entry's over them, which were the filling request's.
    /// </summary>
    public Microsoft.Extensions.Primitives.StringValues RouteClass, RateLimitPolicy, RateLimit;
}
