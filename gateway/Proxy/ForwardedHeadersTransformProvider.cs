using Gateway.RateLimiting;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Proxy;

/// <summary>
/// The forwarded headers every backend request carries, replacing YARP's default transforms (which set
/// <c>X-Forwarded-*</c> the same way for every peer). From a peer in <see cref="RateLimitingOptions.TrustedProxies"/>
/// the incoming forwarded headers are kept and the peer is appended to <c>X-Forwarded-For</c>; from anyone else they
/// are forged: the hygiene stage has already dropped them (<see cref="ForwardingHeaderNames"/>, one pass over the
/// request's headers for identity and forwarding alike), and the gateway states what it saw itself.
/// docs/hardening.md, "Forwarded headers".
/// </summary>
internal sealed class ForwardedHeadersTransformProvider(TrustedProxies trusted) : ITransformProvider
{
    public void ValidateRoute(TransformRouteValidationContext context) { }

    public void ValidateCluster(TransformClusterValidationContext context) { }

    public void Apply(TransformBuilderContext context)
    {
        context.UseDefaultForwarders = false;
        context.AddRequestTransform(Transform);
    }

    private ValueTask Transform(RequestTransformContext context)
    {
        var http = context.HttpContext;
        var peer = http.Connection.RemoteIpAddress;
        string? hop = peer is null ? null : TrustedProxies.Normalize(peer).ToString();
        if (!trusted.IsTrusted(peer))
        {
            // Nothing forwarded by the client reached this point (IdentityHeaderHygieneMiddleware): only our own values.
            if (hop is not null) RequestTransform.AddHeader(context, ForwardingHeaderNames.ForwardedFor, hop);
            RequestTransform.AddHeader(context, ForwardingHeaderNames.ForwardedProto, http.Request.Scheme);
            RequestTransform.AddHeader(context, ForwardingHeaderNames.ForwardedHost, http.Request.Host.ToUriComponent());
            return ValueTask.CompletedTask;
        }

        var chain = RequestTransform.TakeHeader(context, ForwardingHeaderNames.ForwardedFor);
        if (hop is not null)
            RequestTransform.AddHeader(context, ForwardingHeaderNames.ForwardedFor, chain.Count == 0 ? hop : string.Join(", ", chain.ToArray()) + ", " + hop);
        else if (chain.Count > 0) RequestTransform.AddHeader(context, ForwardingHeaderNames.ForwardedFor, chain);

        var proto = RequestTransform.TakeHeader(context, ForwardingHeaderNames.ForwardedProto);
        RequestTransform.AddHeader(context, ForwardingHeaderNames.ForwardedProto, proto.Count > 0 ? proto : new StringValues(http.Request.Scheme));
        var host = RequestTransform.TakeHeader(context, ForwardingHeaderNames.ForwardedHost);
        RequestTransform.AddHeader(context, ForwardingHeaderNames.ForwardedHost, host.Count > 0 ? host : new StringValues(http.Request.Host.ToUriComponent()));
        return ValueTask.CompletedTask;
    }
}
