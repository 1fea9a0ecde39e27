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
        request.Headers.Authorization.Count == 0 && request.Cookies.ContainsKey(Name);
}
