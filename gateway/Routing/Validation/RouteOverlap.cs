namespace Gateway.Routing.Validation;

/// <summary>
/// Whether two routes of one path could both match a request at the same rank, which ASP.NET routing answers with an
/// <c>AmbiguousMatchException</c> (a 500 for every such request). Routing ranks a route with hosts above one without,
/// and one with more header conditions above one with fewer (YARP's comparer counts them); between two routes equal on
/// both, the request decides only if no request can satisfy both. Until 2026-12-06 only identical host and header sets
/// were refused: <c>["a.example.com"]</c> beside <c>["a.example.com", "b.example.com"]</c>, or a route on
/// <c>X-Tenant: beta</c> beside one on <c>X-Region: eu</c>, passed validation and answered 500 to the requests both
/// matched. Where it cannot tell (Contains, NotContains), it assumes they overlap.
/// </summary>
internal static class RouteOverlap
{
    /// <summary>A route's match conditions: normalised path, methods ("*" for every method), hosts and headers.</summary>
    public sealed record Conditions(string Name, string Path, string[] Methods, IReadOnlyList<string> Hosts, IReadOnlyList<RouteHeaderMatch> Headers);

    public static bool Ambiguous(Conditions a, Conditions b) =>
        string.Equals(a.Path, b.Path, StringComparison.OrdinalIgnoreCase)
        && MethodsOverlap(a.Methods, b.Methods)
        && (a.Hosts.Count > 0) == (b.Hosts.Count > 0)
        && (a.Hosts.Count == 0 || a.Hosts.Any(x => b.Hosts.Any(y => HostsOverlap(x, y))))
        && a.Headers.Count == b.Headers.Count
        && !HeadersExclude(a.Headers, b.Headers);

    // A route without methods overlaps every method (refused before too: routing would rank the one with methods first,
    // but a path served twice is a mistake more often than a design).
    private static bool MethodsOverlap(string[] a, string[] b) =>
        a.Contains("*") || b.Contains("*") || a.Intersect(b, StringComparer.Ordinal).Any();

    /// <summary>Two host patterns some request's Host satisfies both: the same name, or a wildcard covering the other.</summary>
    internal static bool HostsOverlap(string x, string y)
    {
        var (hx, px) = Split(x);
        var (hy, py) = Split(y);
        if (px is not null && py is not null && px != py) return false;
        if (hx == hy) return true;
        bool wx = hx.StartsWith("*.", StringComparison.Ordinal), wy = hy.StartsWith("*.", StringComparison.Ordinal);
        // "*.example.com" matches "a.example.com" and "a.b.example.com"; two wildcards overlap when one suffix ends the other.
        if (wx && hy.EndsWith(hx[1..], StringComparison.Ordinal)) return true;
        if (wy && hx.EndsWith(hy[1..], StringComparison.Ordinal)) return true;
        return false;
    }

    private static (string Host, string? Port) Split(string pattern)
    {
        string lower = pattern.ToLowerInvariant();
        int colon = lower.LastIndexOf(':');
        return colon < 0 ? (lower, null) : (lower[..colon], lower[(colon + 1)..]);
    }

    /// <summary>True when no request can satisfy both lists: some header is asked for in two ways that exclude each other.</summary>
    private static bool HeadersExclude(IReadOnlyList<RouteHeaderMatch> a, IReadOnlyList<RouteHeaderMatch> b)
    {
        foreach (var x in a)
            foreach (var y in b)
                if (string.Equals(x.Name, y.Name, StringComparison.OrdinalIgnoreCase) && Exclude(x, y)) return true;
        return false;
    }

    private static bool Exclude(RouteHeaderMatch x, RouteHeaderMatch y)
    {
        if (x.Mode == "NotExists" || y.Mode == "NotExists")
            return (x.Mode == "NotExists") != (y.Mode == "NotExists");   // absent beside present in any way
        // A header can carry several values, but YARP matches a single value against each list: exact against exact
        // excludes when the lists share no value; prefix against exact or prefix when no value starts the other.
        var comparison = x.IsCaseSensitive && y.IsCaseSensitive ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;
        return (x.Mode, y.Mode) switch
        {
            ("ExactHeader", "ExactHeader") => !x.Values.Any(v => y.Values.Any(w => string.Equals(v, w, comparison))),
            ("HeaderPrefix", "HeaderPrefix") => !x.Values.Any(v => y.Values.Any(w => v.StartsWith(w, comparison) || w.StartsWith(v, comparison))),
            ("ExactHeader", "HeaderPrefix") => !x.Values.Any(v => y.Values.Any(w => v.StartsWith(w, comparison))),
            ("HeaderPrefix", "ExactHeader") => !y.Values.Any(v => x.Values.Any(w => v.StartsWith(w, comparison))),
            _ => false,
        };
    }
}
