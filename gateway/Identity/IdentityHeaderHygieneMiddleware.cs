using Gateway.Proxy;
using Gateway.RateLimiting;
using Gateway.Routing;
using Microsoft.Extensions.Options;

namespace Gateway.Identity;

/// <summary>
/// First stage on every request that can reach a backend, anonymous ones included (only <c>/health</c> and <c>/ready</c>,
/// answered from fixed state, come earlier): removes every client-supplied header that could carry identity, so nothing
/// downstream (or a backend) ever sees a spoofed one, and the forwarding headers the client may not send
/// (<see cref="ForwardingHeaderNames"/>: URL overrides and underscore spellings from anyone, <c>X-Forwarded-*</c> and
/// friends from a peer that is not a trusted proxy). One pass over the headers for both; allocates nothing beyond the
/// header enumerator when no such header is present.
/// </summary>
internal sealed class IdentityHeaderHygieneMiddleware
{
    private readonly RequestDelegate _next;
    private readonly IRouteTable _table;
    private readonly string[] _fromSettings;
    private readonly TrustedProxies _trustedProxies;
    private volatile MatcherState _state;

    public IdentityHeaderHygieneMiddleware(RequestDelegate next, IRouteTable table, IOptions<IdentityHeaderOptions> options, TrustedProxies trustedProxies)
    {
        _next = next;
        _table = table;
        _trustedProxies = trustedProxies;
        _fromSettings = [.. options.Value.Additional];
        var snapshot = table.Current;
        _state = new MatcherState(snapshot, Build(snapshot));
    }

    public Task Invoke(HttpContext context)
    {
        var headers = context.Request.Headers;
        var matcher = CurrentMatcher();
        List<string>? found = null;
        foreach (var header in headers)
            if (matcher.IsIdentityHeader(header.Key) || IsRefusedForwarding(context, header.Key)) (found ??= []).Add(header.Key);
        if (found is not null)
            foreach (var name in found) headers.Remove(name);
        return _next(context);
    }

    private bool IsRefusedForwarding(HttpContext context, string name) => ForwardingHeaderNames.AllowedSender(name) switch
    {
        ForwardingHeaderNames.Sender.Nobody => true,
        ForwardingHeaderNames.Sender.TrustedProxy => !_trustedProxies.IsTrusted(context.Connection.RemoteIpAddress),
        _ => false,
    };

    private IdentityHeaderMatcher CurrentMatcher()
    {
        var snapshot = _table.Current;
        var state = _state;
        if (ReferenceEquals(snapshot, state.For)) return state.Matcher;
        // A hot reload may have changed identityHeaders.additional: rebuild once per snapshot.
        state = new MatcherState(snapshot, Build(snapshot));
        _state = state;
        return state.Matcher;
    }

    private sealed record MatcherState(RouteClassSnapshot For, IdentityHeaderMatcher Matcher);

    private IdentityHeaderMatcher Build(RouteClassSnapshot snapshot) =>
        new([.. _fromSettings, .. snapshot.AdditionalIdentityHeaders]);
}
