namespace Gateway.Proxy;

/// <summary>
/// The client headers that describe how a request was forwarded, and who may send them. The hygiene stage
/// (<see cref="Identity.IdentityHeaderHygieneMiddleware"/>) drops the refused ones in its one pass over the request's
/// headers, so <see cref="ForwardedHeadersTransformProvider"/> only composes the values the backend gets.
/// docs/hardening.md, "Forwarded headers".
/// </summary>
internal static class ForwardingHeaderNames
{
    public const string ForwardedFor = "X-Forwarded-For";
    public const string ForwardedProto = "X-Forwarded-Proto";
    public const string ForwardedHost = "X-Forwarded-Host";

    /// <summary>Only a proxy in front of the gateway can know these; a backend may use them for URLs, logs or access rules.</summary>
    public static readonly string[] FromTrustedProxiesOnly =
        ["Forwarded", ForwardedFor, ForwardedHost, ForwardedProto, "X-Forwarded-Prefix", "X-Real-IP", "X-Original-Method",
         "X-Client-IP", "X-Cluster-Client-IP", "X-Url-Scheme", "X-Scheme", "Front-End-Https"];

    /// <summary>
    /// Every <c>X-Forwarded-*</c> name is a proxy's statement, not only the ones above: Rack and Rails read
    /// <c>X-Forwarded-Ssl</c> and <c>X-Forwarded-Scheme</c> before <c>X-Forwarded-Proto</c>, others <c>X-Forwarded-Port</c>
    /// or <c>X-Forwarded-Server</c>. Only the four listed names used to be dropped from clients, so a client could tell a
    /// backend its scheme and port, or match a route's condition on them.
    /// </summary>
    private const string ForwardedPrefix = "X-Forwarded-";

    /// <summary>
    /// URL overrides that some frameworks honour over the request line (IIS URL Rewrite, Symfony, Zend): they would let
    /// the backend route to a path other than the one the gateway classified, so nobody may send them. Likewise the
    /// method overrides (ASP.NET Core's and Express's method-override, Rails, Laravel): the backend would act as a DELETE
    /// on a POST the gateway classified, rate-limited, checked for CSRF and signed as a POST.
    /// </summary>
    public static readonly string[] NeverForwarded =
        ["X-Original-URL", "X-Rewrite-URL", "X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"];

    /// <summary>Who may send a header of this name.</summary>
    public static Sender AllowedSender(string name)
    {
        // Cheap exit for the usual headers (Host, Accept, Authorization, ...): every forwarding name starts with X or F.
        if (name.Length == 0 || (name[0] | 0x20) is not ('x' or 'f')) return Sender.Anyone;
        bool underscore = name.Contains('_');
        if (Matches(NeverForwarded, name)) return Sender.Nobody;
        if (Matches(FromTrustedProxiesOnly, name) || (name.Length > ForwardedPrefix.Length && EqualsLoose(ForwardedPrefix, name)))
            // CGI-style backends (PHP, Django, Rack) read X_Forwarded_For as X-Forwarded-For; no proxy sends that
            // spelling, so it is dropped whoever the peer is.
            return underscore ? Sender.Nobody : Sender.TrustedProxy;
        return Sender.Anyone;
    }

    private static bool Matches(string[] names, string name)
    {
        foreach (var n in names)
            if (n.Length == name.Length && EqualsLoose(n, name)) return true;
        return false;
    }

    /// <summary>Case-insensitive, with '_' in <paramref name="name"/> read as '-'.</summary>
    private static bool EqualsLoose(string known, string name)
    {
        for (int i = 0; i < known.Length; i++)
        {
            char c = name[i] == '_' ? '-' : name[i];
            if (char.ToLowerInvariant(c) != char.ToLowerInvariant(known[i])) return false;
        }
        return true;
    }

    internal enum Sender { Anyone, TrustedProxy, Nobody }
}
