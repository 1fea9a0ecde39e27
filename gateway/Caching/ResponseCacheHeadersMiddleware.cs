using Gateway.Pipeline;
using Microsoft.Net.Http.Headers;

namespace Gateway.Caching;

/// <summary>
/// Runs just outside the output cache middleware. Marks requests that may be cached (their class has a cache policy and
/// a principal is validated) and, when the response starts, writes <c>X-Cache: HIT|MISS</c> and
/// <c>Cache-Control: private</c> (a backend <c>no-store</c> is kept). These are set last, so the values stored with an
/// entry never leak into a hit.
/// </summary>
internal sealed class ResponseCacheHeadersMiddleware
{
    private static readonly Func<object, Task> SetHeaders = static o =>
    {
        var context = (HttpContext)o;
        var state = context.Features.Get<ResponseCacheState>()!;
        var headers = context.Response.Headers;
        headers["X-Cache"] = state.Hit ? "HIT" : "MISS";
        // The count stored with the entry is what filling it cost; a hit ran no database command.
        if (state.Hit) headers.Remove(Gateway.Contracts.DiagnosticHeaders.DbQueries);
        if (!state.Hit) state.BackendCacheControl = headers.CacheControl.ToString();
        if (state.Hit || !headers.CacheControl.ToString().Contains("no-store", StringComparison.OrdinalIgnoreCase))
            headers[HeaderNames.CacheControl] = "private";
        return Task.CompletedTask;
    };

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
        gateway.CacheState = state;
        context.Features.Set(state);
        context.Response.OnStarting(SetHeaders, context);
        return _next(context);
    }
}
