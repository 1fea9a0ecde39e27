using Gateway.Routing.Explain;
using Microsoft.AspNetCore.Routing.Patterns;

namespace Gateway.Routing.Diff;

/// <summary>
/// The sample requests a config diff sends through both versions: every route's path pattern instantiated (parameters
/// filled, catch-alls as their bare prefix and one segment below it) plus every literal prefix and one segment below
/// it, so a new or widened catch-all is caught where it takes over; each with every method any route names and the
/// usual ones, every host a route names (a wildcard as one name under it) and none, and no headers or the headers one
/// route requires. Both versions' routes contribute, so a route that disappeared is probed as well as one that appeared.
/// </summary>
internal static class ProbeSet
{
    /// <summary>Bound on the requests compared; beyond it the report says it is partial.</summary>
    public const int MaxProbes = 50_000;
    /// <summary>Value of a parameter and of the segment below a prefix; routes rarely name it literally.</summary>
    public const string Sample = "probe";
    private static readonly string[] CommonMethods = ["GET", "POST", "PUT", "PATCH", "DELETE"];

    public static IReadOnlyList<RequestProbe> For(IReadOnlyList<RouteClassSnapshot> snapshots, out bool truncated)
    {
        var paths = new SortedSet<string>(StringComparer.Ordinal) { "/", "/" + Sample };
        var methods = new SortedSet<string>(CommonMethods, StringComparer.Ordinal);
        var hosts = new List<string?> { null };
        var headerSets = new List<KeyValuePair<string, string>[]> { Array.Empty<KeyValuePair<string, string>>() };
        var seenHeaderSets = new HashSet<string>(StringComparer.Ordinal) { "" };
        foreach (var snapshot in snapshots)
            foreach (var route in snapshot.Routes.Values)
            {
                AddPaths(route.Path, paths);
                foreach (var m in route.Methods) methods.Add(m.ToUpperInvariant());
                foreach (var h in route.Hosts ?? [])
                {
                    string host = h.StartsWith("*.", StringComparison.Ordinal) ? Sample + h[1..] : h;
                    if (!hosts.Contains(host, StringComparer.OrdinalIgnoreCase)) hosts.Add(host);
                }
                if (route.Headers is { Count: > 0 } matches && Satisfying(matches) is { } set
                    && seenHeaderSets.Add(string.Join('\n', set.Select(kv => kv.Key + ":" + kv.Value)))) headerSets.Add(set);
            }

        var probes = new List<RequestProbe>();
        truncated = false;
        foreach (var path in paths)
            foreach (var method in methods)
                foreach (var host in hosts)
                    foreach (var headers in headerSets)
                    {
                        if (probes.Count == MaxProbes) { truncated = true; return probes; }
                        probes.Add(new RequestProbe(method, path, host, headers));
                    }
        return probes;
    }

    /// <summary>The pattern's instances and its literal prefixes, each also with one <see cref="Sample"/> segment below.</summary>
    internal static void AddPaths(string pattern, ISet<string> paths)
    {
        RoutePattern parsed;
        try { parsed = RoutePatternFactory.Parse(pattern); }
        catch (RoutePatternException) { return; }   // the validator has reported it; nothing to probe
        var prefix = "";
        foreach (var segment in parsed.PathSegments)
        {
            var text = new System.Text.StringBuilder();
            bool stop = false, literal = true;
            foreach (var part in segment.Parts)
            {
                switch (part)
                {
                    case RoutePatternLiteralPart l: text.Append(l.Content); break;
                    case RoutePatternSeparatorPart s: text.Append(s.Content); break;
                    case RoutePatternParameterPart p when p.IsCatchAll: stop = true; break;
                    case RoutePatternParameterPart p:
                        literal = false;
                        if (p.IsOptional) AddWithChild(prefix, paths);
                        text.Append(SampleFor(p));
                        break;
                }
            }
            if (stop) { AddWithChild(prefix, paths); return; }
            prefix += "/" + text;
            if (literal) AddWithChild(prefix, paths);
        }
        paths.Add(prefix.Length == 0 ? "/" : prefix);
    }

    private static void AddWithChild(string prefix, ISet<string> paths)
    {
        paths.Add(prefix.Length == 0 ? "/" : prefix);
        paths.Add(prefix + "/" + Sample);
    }

    /// <summary>A value the parameter's constraints accept: routes such as <c>{id:int}</c> must be probed with a number.</summary>
    private static string SampleFor(RoutePatternParameterPart p)
    {
        foreach (var policy in p.ParameterPolicies)
        {
            string c = policy.Content ?? "";
            if (c.StartsWith("int", StringComparison.OrdinalIgnoreCase) || c.StartsWith("long", StringComparison.OrdinalIgnoreCase)
                || c.StartsWith("min", StringComparison.OrdinalIgnoreCase) || c.StartsWith("max", StringComparison.OrdinalIgnoreCase)
                || c.StartsWith("range", StringComparison.OrdinalIgnoreCase) || c.StartsWith("decimal", StringComparison.OrdinalIgnoreCase)
                || c.StartsWith("double", StringComparison.OrdinalIgnoreCase) || c.StartsWith("float", StringComparison.OrdinalIgnoreCase)) return "1";
            if (c.StartsWith("guid", StringComparison.OrdinalIgnoreCase)) return "00000000-0000-0000-0000-000000000001";
            if (c.StartsWith("bool", StringComparison.OrdinalIgnoreCase)) return "true";
        }
        return Sample;
    }

    /// <summary>Headers that satisfy every match of one route (all must match); null when they cannot be written down.</summary>
    private static KeyValuePair<string, string>[]? Satisfying(IReadOnlyList<RouteHeaderMatch> matches)
    {
        var set = new List<KeyValuePair<string, string>>();
        foreach (var m in matches)
        {
            string? value = m.Mode switch
            {
                "ExactHeader" or "Contains" => m.Values[0],
                "HeaderPrefix" => m.Values[0] + Sample,
                "NotContains" or "Exists" => Sample,
                _ => null,   // NotExists: satisfied by leaving the header out
            };
            if (value is not null) set.Add(new(m.Name, value));
        }
        return [.. set];
    }
}
