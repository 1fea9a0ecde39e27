using System.Globalization;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Gateway.Browsers;

/// <summary>
/// Writes the session cookie's <c>Set-Cookie</c> values from <c>Sessions:CookieName</c> and <c>Sessions:Cookie</c>:
/// always <c>HttpOnly</c> (scripts never see the token). The attributes are fixed at start, so the clearing value is
/// built once and a clearing answer allocates nothing.
/// </summary>
internal sealed class SessionCookie
{
    private readonly string _prefix;
    private readonly string _attributes;
    private readonly string _clear;

    public SessionCookie(IOptions<Gateway.Sessions.SessionOptions> sessions, IOptions<SessionCookieOptions> options)
    {
        var o = options.Value;
        Name = sessions.Value.CookieName;
        Persistent = o.Persistent;
        _prefix = Name + "=";
        _attributes = "; Path=" + o.Path
            + (string.IsNullOrEmpty(o.Domain) ? "" : "; Domain=" + o.Domain)
            + (o.Secure ? "; Secure" : "")
            + "; HttpOnly; SameSite=" + o.SameSite;
        // Expires as well as Max-Age=0: a client that only knows Expires also drops it.
        _clear = _prefix + "; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT" + _attributes;
        IssueMode = o.IssueOnLogin;
    }

    public string Name { get; }
    public bool Persistent { get; }
    public CookieIssueMode IssueMode { get; }

    /// <summary>The value that sets the cookie to <paramref name="token"/>; with <paramref name="maxAge"/> when persistent.</summary>
    public string IssueValue(string token, TimeSpan? maxAge)
    {
        string age = Persistent && maxAge is { } a
            ? "; Max-Age=" + ((long)Math.Max(0, Math.Floor(a.TotalSeconds))).ToString(CultureInfo.InvariantCulture)
            : "";
        return _prefix + token + age + _attributes;
    }

    /// <summary>The value that makes the browser drop the cookie.</summary>
    public string ClearValue => _clear;

    /// <summary>Clears the cookie on this answer; no cache may keep an answer that sets a cookie.</summary>
    public void AppendClear(HttpResponse response)
    {
        response.Headers.Append(HeaderNames.SetCookie, _clear);
        response.Headers.CacheControl = "no-store";
    }

    /// <summary>Whether the request carried the session in the cookie rather than in <c>Authorization</c>.</summary>
    public bool AuthenticatesByCookie(HttpRequest request) =>
        request.Headers.Authorization.Count == 0 && Find(request.Headers.Cookie, Name) is not null;

    /// <summary>
    /// The value of the first cookie named <paramref name="name"/> (any letter case) in the request's <c>Cookie</c> headers,
    /// pairs split on <c>;</c> only (RFC 6265), or null. The one reading of the header the gateway uses both to find the
    /// session and to strip it before forwarding (IdentityTransformProvider), so the two cannot disagree about which pair
    /// is the session: a pair the strip would forward must never be the one that authenticated. (Until 2026-12-05 the
    /// session was read through ASP.NET Core's cookie collection, a second parser; the cases a review suspected, a pair
    /// hidden after a <c>,</c> or a malformed name, were checked and read the same.) Allocates only the value it returns,
    /// where the collection built a dictionary of every cookie.
    /// </summary>
    public static string? Find(Microsoft.Extensions.Primitives.StringValues cookieHeaders, string name)
    {
        foreach (var header in cookieHeaders)
        {
            var rest = (header ?? "").AsSpan();
            while (!rest.IsEmpty)
            {
                int end = rest.IndexOf(';');
                var pair = (end < 0 ? rest : rest[..end]).Trim();
                rest = end < 0 ? default : rest[(end + 1)..];
                int eq = pair.IndexOf('=');
                if (eq < 0) continue;
                if (pair[..eq].TrimEnd().Equals(name, StringComparison.OrdinalIgnoreCase)) return pair[(eq + 1)..].TrimStart().ToString();
            }
        }
        return null;
    }
}
