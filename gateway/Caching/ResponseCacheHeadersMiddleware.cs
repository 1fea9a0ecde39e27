using Gateway.Observability;
using Gateway.Pipeline;
using Gateway.Routing;
using Microsoft.Net.Http.Headers;

namespace Gateway.Caching;

/// <summary>
/// Runs just outside the output cache middleware. Marks requests that may be cached (their class has a cache policy and
/// a principal is validated) and, when the response starts, writes <c>X-Cache: HIT|MISS</c> and
/// the client's <c>Cache-Control</c>: the backend's directives plus <c>private</c> (<see cref="BackendCacheDirectives.ForClient"/>).
/// These are set last, so the X-Cache stored with an entry never leaks into a hit.
/// </summary>
internal sealed class ResponseCacheHeadersMiddleware
{
    private static readonly Func<object, Task> SetHeaders = static o =>
    {
        var context = (HttpContext)o;
        var state = context.Features.Get<ResponseCacheState>()!;
        var headers = context.Response.Headers;
        headers["X-Cache"] = state.Hit ? "HIT" : "MISS";
        if (state.Hit)
        {
            // The count stored with the entry is what filling it cost; a hit ran no database command.
            headers.Remove(Gateway.Contracts.DiagnosticHeaders.DbQueries);
            // The entry holds the filling request's id (set when that request began): this response is this request's.
            var requestId = context.Request.Headers[RequestTelemetryMiddleware.RequestIdHeader];
            if (requestId.Count == 1) headers[RequestTelemetryMiddleware.RequestIdHeader] = requestId;
            else headers.Remove(RequestTelemetryMiddleware.RequestIdHeader);
            // And this request's class and rate-limit state, not the filling request's: a client near its limit saw the
            // remaining count of a request long past on every hit, and after a reload the old class and limit.
            Restore(headers, RouteClassificationMiddleware.HeaderName, state.RouteClass);
            Restore(headers, RateLimitPolicyHeader, state.RateLimitPolicy);
            Restore(headers, RateLimitHeader, state.RateLimit);
        }
        // On a miss these are the backend's headers; on a hit the entry's, which are the backend's as they were when the
        // response started (the output cache copies them before this callback runs), so both get the same rule.
        string backend = headers.CacheControl.ToString();
        if (!state.Hit) state.BackendCacheControl = backend;
        headers[HeaderNames.CacheControl] = BackendCacheDirectives.ForClient(backend, headers.Pragma);
        return Task.CompletedTask;
    };

    private const string RateLimitPolicyHeader = "RateLimit-Policy";
    private const string RateLimitHeader = "RateLimit";

    private static void Restore(IHeaderDictionary headers, string name, Microsoft.Extensions.Primitives.StringValues value)
    {
        if (value.Count == 0) headers.Remove(name);
        else headers[name] = value;
    }

    private readonly RequestDelegate _next;
    private readonly IResponseCachePolicyResolver _resolver;
    private readonly TieredOutputCacheStore _store;

    public ResponseCacheHeadersMiddleware(RequestDelegate next, IResponseCachePolicyResolver resolver, TieredOutputCacheStore store)
    {
        _next = next;
        _resolver = resolver;
        _store = store;
    }

    public Task Invoke(HttpContext context)
    {
        var method = context.Request.Method;
        if (!(HttpMethods.IsGet(method) || HttpMethods.IsHead(method))
            || GatewayRequestFeature.Of(context) is not { Principal: not null } gateway
            || _resolver.Resolve(context) is not { } policy)
        {
            return _next(context);
        }
        // Before the lookup and the backend call: an eviction from here on means this response may predate it.
        var state = new ResponseCacheState(policy, _store.EvictionGeneration);
        var own = context.Response.Headers;
        state.RouteClass = own[RouteClassificationMiddleware.HeaderName];
        state.RateLimitPolicy = own[RateLimitPolicyHeader];
        state.RateLimit = own[RateLimitHeader];
        gateway.CacheState = state;
        context.Features.Set(state);
        context.Response.OnStarting(SetHeaders, context);
        return _next(context);
    }
}
