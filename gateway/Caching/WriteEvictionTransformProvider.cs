using Gateway.Pipeline;
using Gateway.Sessions;
using Microsoft.AspNetCore.OutputCaching;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Caching;

/// <summary>
/// A write the backend accepted (a 2xx on a route marked <c>evictsCache</c> or <c>evictsSessions</c>, which the validator
/// limits to unsafe methods) evicts the caller's cached responses on this instance
/// before the answer reaches the client: the <c>user:</c> tag of the caller, the <c>org:</c> tag of the organisation the
/// request selected, and the <c>user:</c> tag of the user a route's <c>{userId}</c> names. The backend's invalidation
/// message evicts them on every instance, but it is handled on a thread of its own, after the answer: a client that
/// read right after its own write (<c>PUT /users/profile</c>, then <c>GET /auth/me</c>) got the cached old answer, and
/// for a profile change, whose message is best effort, could keep getting it for the policy's TTL. RFC 9111 §4.4 asks a
/// cache to invalidate what an unsafe request changed; the gateway knows the principal, not the resources, so it evicts
/// by principal. Marked routes only: on every write (a gRPC call is a POST) it would be a Redis round trip each.
/// </summary>
internal sealed class WriteEvictionTransformProvider(IOutputCacheStore store) : ITransformProvider
{
    /// <summary>How long a write's answer waits for Redis to drop the entries; the eviction goes on after it either way.</summary>
    internal static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(1);

    public void ValidateRoute(TransformRouteValidationContext context) { }

    public void ValidateCluster(TransformClusterValidationContext context) { }

    public void Apply(TransformBuilderContext context)
    {
        if (context.Route.Metadata?.ContainsKey(Routing.ProxyConfigBuilder.EvictsCacheKey) == true) context.AddResponseTransform(EvictAfterWrite);
    }

    private ValueTask EvictAfterWrite(ResponseTransformContext context)
    {
        if (context.ProxyResponse is not { IsSuccessStatusCode: true }
            || GatewayRequestFeature.Of(context.HttpContext) is not { Principal.UserId: { Length: > 0 } userId } feature)
            return default;
        return new ValueTask(EvictAsync(userId, feature.OrgId, SessionEvictionTransformProvider.TargetUser(context.HttpContext, userId)));
    }

    private async Task EvictAsync(string userId, string? orgId, string? targetUserId)
    {
        var evictions = new List<Task>(3) { store.EvictByTagAsync(CacheTags.User(userId), CancellationToken.None).AsTask() };
        if (orgId is { Length: > 0 }) evictions.Add(store.EvictByTagAsync(CacheTags.Org(orgId), CancellationToken.None).AsTask());
        if (targetUserId is not null) evictions.Add(store.EvictByTagAsync(CacheTags.User(targetUserId), CancellationToken.None).AsTask());
        // This instance's L1 is evicted synchronously inside each call; only Redis can take time. A slow Redis delays the
        // write's answer by at most MaxWait; the store degrades on Redis errors itself (and remembers the eviction).
        try { await Task.WhenAll(evictions).WaitAsync(MaxWait).ConfigureAwait(false); }
        catch (TimeoutException) { }
    }
}
