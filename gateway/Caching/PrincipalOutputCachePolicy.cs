using Gateway.Observability;
using Gateway.Contracts;
using Gateway.Pipeline;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.OutputCaching;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Caching;

/// <summary>
/// The only output cache policy of the gateway (it replaces the default one, which refuses requests carrying
/// <c>Authorization</c>). Caches GET/HEAD of requests whose class has a cache policy and whose principal is validated;
/// the key is method, path, the query as sent and every identity value the proxy signs for the backend (user, session,
/// selected organisation and role), so an entry can never reach another user nor another session of the same user
/// (a response may name its session: <c>GET /auth/me</c> returns <c>sessionId</c>), plus the content-negotiation
/// headers of <see cref="CacheKeyHeaders"/> as sent, so a backend's <c>Vary: Accept-Encoding</c> is honoured.
/// Entries are tagged by user (and organisation), not by session: a <c>session</c> invalidation (logout) carries the
/// user id and evicts every entry of that user, the logged-out session's included; the other sessions refill theirs.
/// Stores only what <see cref="BackendCacheDirectives.MayStore"/> allows: a 200 without <c>Set-Cookie</c>, whose backend did
/// not forbid reuse (no-store, no-cache, Pragma: no-cache, a Vary on a header the key does not hold) and gave it at least the policy TTL of life
/// (max-age, s-maxage, Expires).
/// Concurrent misses for one key do not wait for one another (<see cref="OutputCacheContext.AllowLocking"/> is off): the
/// framework hands the first request's entry to the waiting ones whenever the policy allowed storage, including when the
/// entry was then not stored (a body over <c>MaximumBodySize</c> or cut short: the waiters got an empty 200; or refused by
/// the store because an eviction ran meanwhile: they got the answer from before the change). A key holds one session,
/// so coalescing only ever saved that one client its own duplicate calls.
/// A request carrying a body (a GET may) is not cached: the key cannot hold the body, and the backend may answer by it.
/// </summary>
internal sealed class PrincipalOutputCachePolicy : IOutputCachePolicy
{
    public static readonly PrincipalOutputCachePolicy Instance = new();

    public ValueTask CacheRequestAsync(OutputCacheContext context, CancellationToken cancellation)
    {
        var http = context.HttpContext;
        var state = http.Features.Get<ResponseCacheState>();
        var principal = http.Features.Get<GatewayRequestFeature>()?.Principal;
        if (state is null || principal is null || !(HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method))
            || http.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true)
        {
            context.EnableOutputCaching = false;
            return ValueTask.CompletedTask;
        }

        var feature = http.Features.Get<GatewayRequestFeature>()!;
        string negotiation = CacheKeyHeaders.ValueOf(http.Request.Headers);
        // The route, too: routes may share a path and differ by host or header (another cluster, other transforms), and
        // a backend's Vary cannot say by which route it was reached.
        string route = feature.RouteId ?? "";   // as classification found it
        if (KeyCannotHold(http.Request, principal, feature, negotiation, route))
        {
            context.EnableOutputCaching = false;
            return ValueTask.CompletedTask;
        }
        // The lookup runs between this hook and ServeFromCacheAsync (hit) or the proxy stage (miss).
        if (ServerTiming.Measuring) http.Features.Get<RequestTelemetryFeature>()?.CacheLookupStarted(System.Diagnostics.Stopwatch.GetTimestamp());
        context.EnableOutputCaching = true;
        context.AllowCacheLookup = true;
        context.AllowCacheStorage = true;
        context.AllowLocking = false;   // see the class's remarks
        context.ResponseExpirationTimeSpan = state.Policy.Ttl;
        // The query exactly as sent, not the framework's parsed form (which upper-cases names, sorts parameters and their
        // repeated values, and decodes them): for the backend "?a=1" and "?A=1", or "?x=1&x=2" and "?x=2&x=1", may be
        // different requests. Nothing is parsed for it either.
        context.CacheVaryByRules.QueryKeys = default;
        // Instances behind a load balancer may see different Host values; the entry must be shared between them.
        context.CacheVaryByRules.VaryByHost = false;
        // The key covers exactly what the backend sees of the caller: the signed identity headers
        // (IdentityTransformProvider). Anything less lets one caller's response be served to another.
        var vary = context.CacheVaryByRules.VaryByValues;
        vary["gw-user"] = principal.UserId;
        vary["gw-session"] = principal.SessionId;
        vary["gw-org"] = feature.OrgId ?? "";
        vary["gw-role"] = feature.OrgRole ?? "";
        // And the headers a backend's Vary may name without making its answer uncacheable (Accept-Encoding above all).
        vary[CacheKeyHeaders.VaryByName] = negotiation;
        vary["gw-query"] = http.Request.QueryString.Value ?? "";
        vary["gw-route"] = route;

        // Not a tag of the entry: how the store learns when this request began (TieredOutputCacheStore.SinceTag).
        context.Tags.Add(TieredOutputCacheStore.SinceTag(state.EvictionGeneration));
        context.Tags.Add(CacheTags.User(principal.UserId));
        if (state.Policy.VaryByOrg)
        {
            if (feature.OrgId is { Length: > 0 } selected) context.Tags.Add(CacheTags.Org(selected));
            else foreach (var org in principal.Orgs) context.Tags.Add(CacheTags.Org(org.Id));
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Whether a part of the key holds the characters ASP.NET Core's output cache delimits its keys with (U+001E,
    /// U+001F). With one, the framework gives the key up ("no key"), but its request coalescing still used the empty
    /// key: concurrent misses of different users, each sending such a character (decoded from the path, in an Accept
    /// header, or, while the key held the framework's decoded query, from the query), waited for one backend answer and
    /// got the first user's response. Such a request is not cached at all: it goes to the backend like any uncached one. A vectorised scan
    /// of the few key strings, on cached routes only.
    /// </summary>
    private static bool KeyCannotHold(HttpRequest request, SessionPrincipal principal, GatewayRequestFeature feature, string negotiation, string route)
    {
        // And the negotiation headers are held in the key as sent: more than a kilobyte of them (16 KB of headers
        // are allowed) would make every entry of that client carry it, uncounted by the L1's size limit.
        if (negotiation.Length > MaxNegotiationLength) return true;
        // The path and the raw query likewise: up to Kestrel's 8 KB request line, each distinct one a new entry of its
        // own (a client varying ?x= filled L1 with 16 KB keys, uncounted by its byte limit, and Redis twice over).
        if ((request.Path.Value?.Length ?? 0) + (request.QueryString.Value?.Length ?? 0) > MaxTargetLength) return true;
        // Every string the key holds, the raw query and the backend's ids included: whatever let one through, the
        // request is then simply not cached.
        return HasDelimiter(request.PathBase.Value) || HasDelimiter(request.Path.Value) || HasDelimiter(negotiation)
            || HasDelimiter(request.QueryString.Value) || HasDelimiter(feature.OrgId) || HasDelimiter(feature.OrgRole)
            || HasDelimiter(principal.UserId) || HasDelimiter(principal.SessionId) || HasDelimiter(route);
    }

    private const int MaxNegotiationLength = 1024;
    private const int MaxTargetLength = 1024;

    private static bool HasDelimiter(string? part) => part is not null && part.AsSpan().IndexOfAny('\u001e', '\u001f') >= 0;

    public ValueTask ServeFromCacheAsync(OutputCacheContext context, CancellationToken cancellation)
    {
        if (context.HttpContext.Features.Get<ResponseCacheState>() is { } state) state.Hit = true;
        if (ServerTiming.Measuring) context.HttpContext.Features.Get<RequestTelemetryFeature>()?.CacheLookupEnded(System.Diagnostics.Stopwatch.GetTimestamp());
        return ValueTask.CompletedTask;
    }

    public ValueTask ServeResponseAsync(OutputCacheContext context, CancellationToken cancellation)
    {
        var response = context.HttpContext.Response;
        // This hook runs after the body, when the client-facing Cache-Control has replaced the backend's.
        string cacheControl = context.HttpContext.Features.Get<ResponseCacheState>()?.BackendCacheControl ?? response.Headers.CacheControl.ToString();
        // ResponseTime: when the response started, i.e. when the gateway had the backend's headers.
        var now = context.ResponseTime ?? DateTimeOffset.UtcNow;
        // A body the forwarder could not finish (the backend failed or was cut off mid-body, the class's deadline passed,
        // the client left) is what was buffered so far: without a Content-Length nothing else tells it from a whole one.
        if (context.ResponseExpirationTimeSpan is not { } ttl
            || context.HttpContext.Features.Get<IForwarderErrorFeature>() is not null
            || context.HttpContext.RequestAborted.IsCancellationRequested
            || !BackendCacheDirectives.MayStore(response.StatusCode, response.Headers, cacheControl, ttl, now))
        {
            context.AllowCacheStorage = false;
        }
        return ValueTask.CompletedTask;
    }
}

/// <summary>Tag names shared by the policy and the invalidator.</summary>
internal static class CacheTags
{
    public static string User(string userId) => "user:" + userId;
    public static string Org(string orgId) => "org:" + orgId;
}
