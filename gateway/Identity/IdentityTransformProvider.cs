using System.Net.Http.Headers;
using System.Text;
using Gateway.Pipeline;
using Gateway.RateLimiting;
using Gateway.Trust;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Identity;

/// <summary>
/// Signs every proxied request with its cluster's active key (docs/contracts.md, "Signed gateway headers"): the client
/// address the gateway determined always, the identity headers when a session was validated. Anonymous requests are
/// signed too, so a backend can trust the client address on routes like <c>/auth/login</c>. Unless
/// <c>Sessions:ForwardCredential</c> is set, the session credential the identity replaces stays at the edge: the
/// validated Bearer header and the session cookie (<see cref="Sessions.SessionOptions.ForwardCredential"/>).
/// </summary>
internal sealed class IdentityTransformProvider(ClusterSigners signers, ClientIpResolver clientIp, TimeProvider time,
    IOptions<Sessions.SessionOptions> sessions) : ITransformProvider
{
    private readonly bool _forwardCredential = sessions.Value.ForwardCredential;
    private readonly string _cookieName = sessions.Value.CookieName;

    public void ValidateRoute(TransformRouteValidationContext context)
    {
        // Route-class reloads are validated here too: a route to a cluster without a key is refused, never sent unsigned.
        if (context.Route.ClusterId is { } cluster && signers.For(cluster) is null)
            context.Errors.Add(new ArgumentException(
                $"Route '{context.Route.RouteId}' goes to cluster '{cluster}', which has no signing key. Set Signing:Clusters:{cluster}:Keys (restart needed)."));
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
        if (signers.For(context.Cluster.ClusterId) is null)
            context.Errors.Add(new ArgumentException(
                $"Cluster '{context.Cluster.ClusterId}' has no signing key. Set Signing:Clusters:{context.Cluster.ClusterId}:Keys (restart needed)."));
    }

    public void Apply(TransformBuilderContext context)
    {
        // Bound per route: no per-request lookup of the cluster's key. Validation refused routes without one.
        var signer = signers.For(context.Route.ClusterId)
            ?? throw new InvalidOperationException($"Cluster '{context.Route.ClusterId}' has no signing key.");
        context.AddRequestTransform(transform => Transform(transform, signer));
    }

    private ValueTask Transform(RequestTransformContext context, GatewaySignature signer)
    {
        var headers = context.ProxyRequest.Headers;
        foreach (var name in IdentityHeaderMatcher.BuiltIn) headers.Remove(name);
        var http = context.HttpContext;
        var feature = GatewayRequestFeature.Of(http);
        var principal = feature?.Principal;

        long timestamp = time.GetUtcNow().ToUnixTimeSeconds();
        var identity = principal is null
            ? new SignedIdentity("", "", "", "")
            : new SignedIdentity(principal.UserId, principal.SessionId, feature!.OrgId ?? "", feature.OrgRole ?? "");
        string client = clientIp.Resolve(http)?.ToString() ?? "";
        string path = context.Path.HasValue ? context.Path.Value! : "/";
        // A cluster address with a path ("http://host/svc") goes in front of it on the way: signed as the backend receives it.
        if (AddressPath(context.DestinationPrefix) is { Length: > 0 } addressPath) path = string.Concat(addressPath, path);
        string query = "";
        if (http.Request.QueryString.HasValue)
        {
            // Signed as the backend will receive it: System.Uri escapes some characters Kestrel accepted raw (a quote,
            // a space, non-ASCII), so the URI is built here, the way the forwarder would, and its query is what is signed.
            var uri = RequestUtilities.MakeDestinationAddress(context.DestinationPrefix, context.Path, context.Query.QueryString);
            context.ProxyRequest.RequestUri = uri;
            query = uri.Query;
        }
        // The method the backend receives, which the forwarder has set by now: a WebSocket changes it on the way (an HTTP/2
        // extended CONNECT to an HTTP/1.1 cluster is an upgrade GET, an HTTP/1.1 upgrade GET to an HTTP/2 one a CONNECT).
        string sig = signer.Sign(context.ProxyRequest.Method.Method, path, query, timestamp, client, identity);
        if (identity.UserId.Length > 0)
        {
            headers.TryAddWithoutValidation(IdentityHeaders.UserId, identity.UserId);
            headers.TryAddWithoutValidation(IdentityHeaders.SessionId, identity.SessionId);
        }
        if (identity.OrgId.Length > 0)
        {
            headers.TryAddWithoutValidation(IdentityHeaders.OrgId, identity.OrgId);
            headers.TryAddWithoutValidation(IdentityHeaders.OrgRole, identity.OrgRole);
        }
        headers.TryAddWithoutValidation(IdentityHeaders.ClientIp, client);
        headers.TryAddWithoutValidation(IdentityHeaders.KeyId, signer.KeyId);
        headers.TryAddWithoutValidation(IdentityHeaders.Timestamp, TimestampText(timestamp));
        headers.TryAddWithoutValidation(IdentityHeaders.Signature, sig);
        if (!_forwardCredential) KeepCredentialAtTheEdge(http, headers, principal is not null);
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// The path of a destination's address without its trailing '/', as the forwarder puts it in front of the request's
    /// path; empty for an address without one (nearly all, found without allocating). Until 2026-12-06 it was not
    /// signed, and every request to such a cluster failed verification. The last one is kept: one per cluster, mostly.
    /// </summary>
    private string AddressPath(string destinationPrefix)
    {
        int scheme = destinationPrefix.IndexOf("://", StringComparison.Ordinal);
        int slash = scheme < 0 ? -1 : destinationPrefix.IndexOf('/', scheme + 3);
        if (slash < 0 || slash == destinationPrefix.Length - 1) return "";
        var last = _lastAddressPath;
        if (string.Equals(last.Prefix, destinationPrefix, StringComparison.Ordinal)) return last.Path;
        string addressPath = destinationPrefix[slash..].TrimEnd('/');
        _lastAddressPath = new AddressPathOf(destinationPrefix, addressPath);
        return addressPath;
    }

    private sealed record AddressPathOf(string Prefix, string Path);
    private AddressPathOf _lastAddressPath = new("", "");

    /// <summary>The signed timestamp as the header carries it: formatted once per second, not once per request.</summary>
    private string TimestampText(long seconds)
    {
        var last = _lastTimestamp;
        if (last.Seconds == seconds) return last.Text;
        var text = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _lastTimestamp = new FormattedSeconds(seconds, text);
        return text;
    }

    private sealed record FormattedSeconds(long Seconds, string Text);
    private FormattedSeconds _lastTimestamp = new(-1, "");

    private void KeepCredentialAtTheEdge(HttpContext http, HttpRequestHeaders headers, bool validated)
    {
        // With a principal, an Authorization header can only be the Bearer token it came from (SessionValidationMiddleware
        // answers any other scheme 401), so it goes. On anonymous routes the gateway read nothing and forwards it.
        if (validated && http.Request.Headers.Authorization.Count > 0) headers.Authorization = null;
        var cookies = http.Request.Headers.Cookie;
        if (cookies.Count == 0 || !SessionCookieIn(cookies)) return;
        headers.Remove("Cookie");
        string rest = WithoutSessionCookie(cookies);
        if (rest.Length > 0) headers.TryAddWithoutValidation("Cookie", rest);
    }

    private bool SessionCookieIn(StringValues cookies)
    {
        foreach (var value in cookies)
            if (value is not null && value.Contains(_cookieName, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    /// <summary>
    /// The request's cookies, every header joined, without the session cookie in any letter case: the session stage reads
    /// it through ASP.NET Core's cookie collection, which matches names without case, so whatever spelling authenticated
    /// must not reach the backend (RFC 6265 names are case-sensitive; a credential is not the place to rely on it). Split by hand
    /// rather than rebuilt from <c>HttpRequest.Cookies</c>, which unescapes values: the backend gets the other cookies'
    /// bytes as the client sent them.
    /// </summary>
    private string WithoutSessionCookie(StringValues cookies)
    {
        var kept = new StringBuilder();
        foreach (var value in cookies)
        {
            foreach (var part in (value ?? "").Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                int eq = part.IndexOf('=');
                if (string.Equals(eq < 0 ? part : part[..eq].TrimEnd(), _cookieName, StringComparison.OrdinalIgnoreCase)) continue;
                if (kept.Length > 0) kept.Append("; ");
                kept.Append(part);
            }
        }
        return kept.ToString();
    }
}
