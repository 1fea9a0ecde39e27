using System.Collections.Frozen;
using Gateway.Routing;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Gateway.Browsers;

/// <summary>
/// The CSRF check of cookie-authenticated requests (OWASP: verify the source origin). A browser attaches the session
/// cookie to requests other pages make, so a state-changing request carrying it must say where it comes from: its
/// <c>Origin</c>, or when a browser left that out its <c>Referer</c>'s origin, must be the gateway's own origin, an
/// origin of the class's credentialed CORS policy or one of <c>Sessions:Csrf:TrustedOrigins</c>. Neither header, or
/// <c>Origin: null</c> (sandboxed frames, privacy redirects): refused. Safe methods pass: they must not change state;
/// except a GET that asks to switch protocols (an HTTP/1.1 WebSocket): any page can open a WebSocket to the gateway and
/// the browser attaches the cookie and the page's <c>Origin</c>, so that GET opens a two-way channel as the user
/// (cross-site WebSocket hijacking). An HTTP/2 WebSocket is a CONNECT, never a safe method.
/// Bearer requests never come here: a page cannot make a browser attach someone's Authorization header.
/// </summary>
internal sealed class CsrfOriginCheck(IOptions<CsrfOptions> options)
{
    private readonly FrozenSet<string> _trusted = options.Value.TrustedOrigins.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    public bool Allows(HttpContext context, RouteClass cls)
    {
        var request = context.Request;
        string method = request.Method;
        if ((HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method))
            && request.Headers.Upgrade.Count == 0)
            return true;

        string? origin = SourceOrigin(request);
        if (origin is null) return false;
        if (cls.Cors is { } cors && cors.TrustsForCookies(origin)) return true;
        return _trusted.Contains(origin) || IsSameOrigin(request, origin);
    }

    /// <summary>The one <c>Origin</c>, else the origin of the one absolute http(s) <c>Referer</c>; null when neither is usable.</summary>
    private static string? SourceOrigin(HttpRequest request)
    {
        var origin = request.Headers.Origin;
        if (origin.Count > 0)
            return origin.Count == 1 && !string.IsNullOrEmpty(origin[0]) && origin[0] != "null" ? origin[0] : null;
        var referer = request.Headers[HeaderNames.Referer];
        if (referer.Count == 1 && Uri.TryCreate(referer[0], UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
            return uri.GetLeftPart(UriPartial.Authority);
        return null;
    }

    /// <summary><c>scheme://host[:port]</c> of the request as the gateway received it (its Host header, as the browser addressed it).</summary>
    private static bool IsSameOrigin(HttpRequest request, string origin)
    {
        var span = origin.AsSpan();
        string scheme = request.Scheme;
        if (!span.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) || !span[scheme.Length..].StartsWith("://", StringComparison.Ordinal)) return false;
        string? host = request.Host.Value;
        return host is not null && span[(scheme.Length + 3)..].Equals(host, StringComparison.OrdinalIgnoreCase);
    }
}
