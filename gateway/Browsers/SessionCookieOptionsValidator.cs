using Microsoft.Extensions.Options;

namespace Gateway.Browsers;

/// <summary>
/// Refuses cookie settings a browser would silently drop or that would put the token where it does not belong: every
/// such cookie would simply never arrive, and users would see logins that do not stick.
/// </summary>
internal sealed class SessionCookieOptionsValidator(IOptions<Gateway.Sessions.SessionOptions> sessions) : IValidateOptions<SessionCookieOptions>
{
    public ValidateOptionsResult Validate(string? name, SessionCookieOptions options)
    {
        var errors = new List<string>();
        string cookie = sessions.Value.CookieName ?? "";
        if (!IsToken(cookie))
            errors.Add($"Sessions:CookieName '{cookie}' is not a cookie name. Use letters, digits and '-', '_' or '.', e.g. session.");
        if (options.SameSite is not (SameSiteMode.Strict or SameSiteMode.Lax or SameSiteMode.None))
            errors.Add($"Sessions:Cookie:SameSite '{options.SameSite}' is not a SameSite value. Use Lax (the default), Strict or None.");
        if (options.SameSite == SameSiteMode.None && !options.Secure)
            errors.Add("Sessions:Cookie:SameSite is None while Sessions:Cookie:Secure is false. Browsers drop such cookies; set Secure to true.");
        if (string.IsNullOrEmpty(options.Path) || options.Path[0] != '/' || !IsAttributeValue(options.Path))
            errors.Add($"Sessions:Cookie:Path '{options.Path}' is not a cookie path. Use a path starting with '/', without ';', spaces or control characters (default '/').");
        if (!string.IsNullOrEmpty(options.Domain) && !IsDomain(options.Domain))
            errors.Add($"Sessions:Cookie:Domain '{options.Domain}' is not a host name. Use e.g. example.com (it covers its subdomains), or leave it empty to keep the cookie to the gateway's host.");
        // The prefixes are browser-enforced promises; a cookie breaking them is dropped, so refuse the combination here.
        // In any letter case: RFC 6265bis and current browsers match the prefixes case-insensitively ("__host-" too).
        if (cookie.StartsWith("__Host-", StringComparison.OrdinalIgnoreCase) && (!options.Secure || options.Path != "/" || !string.IsNullOrEmpty(options.Domain)))
            errors.Add($"Sessions:CookieName '{cookie}' has the __Host- prefix, which browsers accept only with Secure, Path '/' and no Domain. Fix Sessions:Cookie or rename the cookie.");
        if (cookie.StartsWith("__Secure-", StringComparison.OrdinalIgnoreCase) && !options.Secure)
            errors.Add($"Sessions:CookieName '{cookie}' has the __Secure- prefix, which browsers accept only with Secure. Set Sessions:Cookie:Secure to true.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static bool IsToken(string s)
    {
        if (s.Length == 0) return false;
        foreach (char c in s) if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')) return false;
        return true;
    }

    private static bool IsAttributeValue(string s)
    {
        foreach (char c in s) if (c is ';' or ',' or ' ' or '"' or '\\' || char.IsControl(c) || c > '~') return false;
        return true;
    }

    private static bool IsDomain(string s)
    {
        if (s.StartsWith('.') || s.EndsWith('.') || s.Contains("..", StringComparison.Ordinal)) return false;
        foreach (char c in s) if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '.')) return false;
        return true;
    }
}
