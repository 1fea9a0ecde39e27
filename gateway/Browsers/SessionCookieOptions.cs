namespace Gateway.Browsers;

/// <summary>When the login route answers with the session cookie.</summary>
internal enum CookieIssueMode
{
    /// <summary>Only when the login request carries <c>X-Session-Cookie: 1</c>; other clients keep the token in the body.</summary>
    OnRequest,
    /// <summary>Every successful login through the gateway (browser-only deployments): the body never carries the token.</summary>
    Always,
}

/// <summary>
/// The session cookie the gateway sets on login routes and clears on logout routes (<c>sessionCookie</c> in the
/// route-class file). Its name is <c>Sessions:CookieName</c>, the cookie session validation reads. Section
/// <c>Sessions:Cookie</c>; validated at start-up by <see cref="SessionCookieOptionsValidator"/>.
/// </summary>
internal sealed class SessionCookieOptions
{
    public const string SectionName = "Sessions:Cookie";

    /// <summary>When login sets the cookie. <value>The default is <see cref="CookieIssueMode.OnRequest"/>.</value></summary>
    public CookieIssueMode IssueOnLogin { get; set; } = CookieIssueMode.OnRequest;

    /// <summary>The <c>Secure</c> attribute. Browsers treat http://localhost and 127.0.0.1 as secure, so it works in development. <value>The default is true.</value></summary>
    public bool Secure { get; set; } = true;

    /// <summary><c>Strict</c>, <c>Lax</c> or <c>None</c> (needs <see cref="Secure"/>). <value>The default is <c>Lax</c>.</value></summary>
    public SameSiteMode SameSite { get; set; } = SameSiteMode.Lax;

    /// <summary>The <c>Path</c> attribute. <value>The default is <c>/</c>.</value></summary>
    public string Path { get; set; } = "/";

    /// <summary>The <c>Domain</c> attribute; empty (the default) keeps the cookie to the gateway's own host name.</summary>
    public string? Domain { get; set; }

    /// <summary>
    /// True: <c>Max-Age</c> is the time left until the session's absolute expiry (the login answer's <c>expiresAt</c>), so
    /// the cookie survives a browser restart as long as the session could. False: no <c>Max-Age</c>, the browser drops it
    /// at the end of its session. <value>The default is true.</value>
    /// </summary>
    public bool Persistent { get; set; } = true;
}
