using Gateway.RateLimiting;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Proxy;

/// <summary>
/// The forwarded headers every backend request carries, replacing YARP's default transforms (which set
/// <c>X-Forwarded-*</c> the same way for every peer). From a peer in <see cref="RateLimitingOptions.TrustedProxies"/>
/// the incoming forwarded headers are kept and the peer is appended to <c>X-Forwarded-For</c>; from anyone else they
/// are forged, so they are dropped and the gateway states what it saw itself. docs/hardening.md, "Forwarded headers".
/// </summary>
internal sealed class ForwardedHeadersTransformProvider(TrustedProxies trusted) : ITransformProvider
{
    private const string ForwardedFor = "X-Forwarded-For";
    private const string ForwardedProto = "X-Forwarded-Proto";
    private const string ForwardedHost = "X-Forwarded-Host";

    /// <summary>Only a proxy in front of the gateway can know these; a backend may use them for URLs, logs or access rules.</summary>
    private static readonly string[] FromTrustedProxiesOnly =
        ["Forwarded", ForwardedFor, ForwardedHost, ForwardedProto, "X-Forwarded-Prefix", "X-Real-IP", "X-Original-Method"];

    /// <summary>
    /// URL overrides that some frameworks honour over the request line (IIS URL Rewrite, Symfony, Zend): they would let
    /// the backend route to a path other than the one the gateway classified, so nobody may send them.
    /// </summary>
    private static readonly string[] NeverForwarded = ["X-Original-URL", "X-Rewrite-URL"];

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
        foreach (var name in NeverForwarded) RequestTransform.TakeHeader(context, name);
        if (!trusted.IsTrusted(peer))
            foreach (var name in FromTrustedProxiesOnly) RequestTransform.TakeHeader(context, name);
        DropUnderscoreSpellings(context);

        // Each header below is now either a trusted proxy's value or empty.
        var chain = RequestTransform.TakeHeader(context, ForwardedFor);
        if (peer is not null)
        {
            string hop = TrustedProxies.Normalize(peer).ToString();
            RequestTransform.AddHeader(context, ForwardedFor, chain.Count == 0 ? hop : string.Join(", ", chain.ToArray()) + ", " + hop);
        }
        else if (chain.Count > 0) RequestTransform.AddHeader(context, ForwardedFor, chain);

        var proto = RequestTransform.TakeHeader(context, ForwardedProto);
        RequestTransform.AddHeader(context, ForwardedProto, proto.Count > 0 ? proto : new StringValues(http.Request.Scheme));
        var host = RequestTransform.TakeHeader(context, ForwardedHost);
        RequestTransform.AddHeader(context, ForwardedHost, host.Count > 0 ? host : new StringValues(http.Request.Host.ToUriComponent()));
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// CGI-style backends (PHP, Django, Rack) read <c>X_Forwarded_For</c> as <c>X-Forwarded-For</c>; no proxy sends
    /// that spelling, so it is dropped whoever the peer is. The identity hygiene treats '_' the same way.
    /// </summary>
    private static void DropUnderscoreSpellings(RequestTransformContext context)
    {
        List<string>? found = null;
        foreach (var header in context.HttpContext.Request.Headers)
            if (header.Key.Contains('_') && IsForwardingHeader(header.Key.Replace('_', '-'))) (found ??= []).Add(header.Key);
        if (found is not null)
            foreach (var name in found) RequestTransform.TakeHeader(context, name);
    }

    private static bool IsForwardingHeader(string name) =>
        Array.Exists(FromTrustedProxiesOnly, n => n.Equals(name, StringComparison.OrdinalIgnoreCase))
        || Array.Exists(NeverForwarded, n => n.Equals(name, StringComparison.OrdinalIgnoreCase));
}
