using Gateway.Trust;

namespace Gateway.Identity;

/// <summary>
/// Decides whether a client header name could carry identity: the built-in names, any <c>X-Gateway-*</c> and the
/// configured extras, compared case-insensitively with '_' treated as '-'. The built-in names are always included.
/// </summary>
internal sealed class IdentityHeaderMatcher
{
    /// <summary>Names every gateway strips, whatever the configuration says.</summary>
    public static readonly string[] BuiltIn =
        [IdentityHeaders.UserId, IdentityHeaders.SessionId, IdentityHeaders.OrgId, IdentityHeaders.OrgRole, IdentityHeaders.Signature,
         IdentityHeaders.Timestamp, IdentityHeaders.KeyId, IdentityHeaders.ClientIp];

    private readonly string[] _names;

    public IdentityHeaderMatcher(IEnumerable<string> additional)
    {
        var names = new List<string>(BuiltIn);
        foreach (var n in additional) if (!string.IsNullOrWhiteSpace(n)) names.Add(n.Trim());
        _names = [.. names];
    }

    public IReadOnlyList<string> Names => _names;

    /// <summary>
    /// A name this matcher can be configured with: non-empty ASCII letters, digits, '-', '_' or '.' (the header-name
    /// characters that name real headers; the route-class file and <c>IdentityHeaders:Additional</c> both check it).
    /// </summary>
    public static bool IsHeaderName([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? name)
    {
        if (string.IsNullOrEmpty(name)) return false;
        foreach (char c in name)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')) return false;
        return true;
    }

    /// <summary>
    /// Headers the gateway reads itself before it forwards: credentials, the CSRF and CORS checks, host routing, message
    /// framing, the request id and the forwarding headers it rewrites for trusted proxies. Configured as identity headers
    /// they were stripped first, and every session, browser or host-bound request failed (401, 403, 404) without a word.
    /// </summary>
    public static readonly string[] Reserved =
        ["Authorization", "Cookie", "Host", "Origin", "Referer", "Access-Control-Request-Method", "Access-Control-Request-Headers",
         "Content-Length", "Content-Type", "Content-Encoding", "Transfer-Encoding", "Connection", "Upgrade", "Expect", "TE",
         "Keep-Alive", "X-Request-Id", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "Forwarded"];

    /// <summary>Whether <paramref name="name"/> is one of <see cref="Reserved"/> (ignoring case, '_' read as '-', as matching does).</summary>
    public static bool IsReserved(string name)
    {
        string normalised = name.Replace('_', '-');
        return Array.Exists(Reserved, r => r.Equals(normalised, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The message for a reserved name, shared by the route-class file's and the settings' checks.</summary>
    public static string ReservedMessage(string where, string name) =>
        $"{where} '{name}' is a header the gateway reads itself before forwarding (credentials, CSRF/CORS, host routing, framing, " +
        "request id or forwarding headers): stripped as an identity header, every request that needs it would fail. Remove it; " +
        $"reserved: {string.Join(", ", Reserved)}.";

    public bool IsIdentityHeader(ReadOnlySpan<char> name)
    {
        if (name.Length >= IdentityHeaders.GatewayPrefix.Length && EqualsLoose(name[..IdentityHeaders.GatewayPrefix.Length], IdentityHeaders.GatewayPrefix))
            return true;
        foreach (var n in _names)
            if (n.Length == name.Length && EqualsLoose(name, n)) return true;
        return false;
    }

    private static bool EqualsLoose(ReadOnlySpan<char> a, ReadOnlySpan<char> b)
    {
        for (int i = 0; i < a.Length; i++)
        {
            char x = a[i] == '_' ? '-' : char.ToLowerInvariant(a[i]);
            char y = b[i] == '_' ? '-' : char.ToLowerInvariant(b[i]);
            if (x != y) return false;
        }
        return true;
    }
}
