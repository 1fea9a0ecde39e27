using Gateway.Routing.Explain;

namespace Gateway.Routing.Diff;

/// <summary>
/// Compares two valid route-class versions by what they do, not how they are written: every sample request of
/// <see cref="ProbeSet"/> goes through each version's real routing (<see cref="SnapshotRouter"/>, the explain engine),
/// and the two decisions are compared aspect by aspect (<see cref="DecisionAspects"/>). Access got weaker for a request
/// that both versions serve when the new auth requirement ranks lower (<see cref="AccessRequirement.Rank"/>): a class
/// lowered from session to anonymous, a role lowered or dropped, or another route (a new or widened catch-all, prefix,
/// host wildcard) now taking a request a protected route took. A request only the new version serves is "exposed", not
/// weaker: before it was answered 404 by routing, so nothing behind it was reachable with or without a session.
/// Runs at config load and on the command line only, never per request.
/// </summary>
internal static class ConfigDiff
{
    public static async Task<ConfigDiffReport> CompareAsync(RouteClassSnapshot oldSnapshot, RouteClassSnapshot newSnapshot)
    {
        using var oldRouter = SnapshotRouter.Build(oldSnapshot);
        using var newRouter = SnapshotRouter.Build(newSnapshot);
        var probes = ProbeSet.For([oldSnapshot, newSnapshot], out bool truncated);
        var groups = new Dictionary<string, (AccessChangeKind Kind, RouteDecision Old, RouteDecision New, List<AspectChange> Changes, List<RequestProbe> Requests)>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var probe in probes)
        {
            var before = await oldRouter.ExplainAsync(probe).ConfigureAwait(false);
            var after = await newRouter.ExplainAsync(probe).ConfigureAwait(false);
            if (!before.Served && !after.Served) continue;
            var changes = Compare(before, after);
            AccessChangeKind kind;
            if (before.Served && !after.Served) kind = AccessChangeKind.Removed;
            else if (!before.Served) kind = AccessChangeKind.Exposed;
            else if (changes.Count == 0) continue;
            else kind = after.Access.Rank < before.Access.Rank || WidensCredentialedOrigins(before, after)
                ? AccessChangeKind.Weaker : AccessChangeKind.Changed;

            string key = $"{kind}|{before.RouteId}|{after.RouteId}|{before.Outcome}|{after.Outcome}|"
                + string.Join("|", changes.Select(c => $"{c.Name}:{c.Old}>{c.New}"));
            if (!groups.TryGetValue(key, out var group))
            {
                group = (kind, before, after, changes, []);
                groups[key] = group;
                order.Add(key);
            }
            group.Requests.Add(probe);
        }
        // Weaker first: the operator reads what got exposed before anything else.
        var result = order.Select(k => groups[k])
            .OrderBy(g => g.Kind)
            .Select(g => new AccessChange(g.Kind, g.Old, g.New, g.Changes, g.Requests))
            .ToList();
        return new ConfigDiffReport(oldSnapshot.Version, newSnapshot.Version, result, RouteChanges(oldSnapshot, newSnapshot), probes.Count, truncated);
    }

    private static List<AspectChange> Compare(RouteDecision before, RouteDecision after)
    {
        var changes = new List<AspectChange>();
        foreach (var aspect in DecisionAspects.All)
        {
            string? a = aspect.Value(before), b = aspect.Value(after);
            if (!string.Equals(a, b, StringComparison.Ordinal)) changes.Add(new AspectChange(aspect.Name, a, b));
        }
        return changes;
    }

    /// <summary>Routes by name: added, removed, or which of their fields changed (the file's view, next to the requests' view).</summary>
    internal static List<RouteChange> RouteChanges(RouteClassSnapshot oldSnapshot, RouteClassSnapshot newSnapshot)
    {
        var result = new List<RouteChange>();
        foreach (var (name, route) in newSnapshot.Routes.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            if (!oldSnapshot.Routes.TryGetValue(name, out var before))
            {
                result.Add(new RouteChange(name, "added", [$"{Match(route)}, class '{route.Class}' ({AccessRequirement.Of(newSnapshot.ClassOrDefault(route.Class))}), cluster '{route.Cluster}'"]));
                continue;
            }
            var details = new List<string>();
            foreach (var (field, value) in Fields)
            {
                string a = value(before), b = value(route);
                if (a != b) details.Add($"{field}: {a} → {b}");
            }
            string oldAuth = AccessRequirement.Of(oldSnapshot.ClassOrDefault(before.Class)).ToString();
            string newAuth = AccessRequirement.Of(newSnapshot.ClassOrDefault(route.Class)).ToString();
            if (oldAuth != newAuth) details.Add($"auth: {oldAuth} → {newAuth}");
            if (details.Count > 0) result.Add(new RouteChange(name, "changed", details));
        }
        foreach (var (name, route) in oldSnapshot.Routes.OrderBy(r => r.Key, StringComparer.Ordinal))
            if (!newSnapshot.Routes.ContainsKey(name)) result.Add(new RouteChange(name, "removed", [$"{Match(route)}, class '{route.Class}'"]));
        return result;
    }

    private static readonly (string Field, Func<RouteDefinition, string> Value)[] Fields =
    [
        ("path", r => r.Path),
        ("methods", r => r.Methods.Count == 0 ? "any" : string.Join(",", r.Methods)),
        ("hosts", r => r.Hosts is { Count: > 0 } h ? string.Join(",", h) : "any"),
        ("headers", r => r.Headers is { Count: > 0 } h ? string.Join(",", h.Select(m => $"{m.Name} {m.Mode} {string.Join("|", m.Values)}")) : "none"),
        ("class", r => r.Class),
        ("cluster", r => r.Cluster),
        ("pathRemovePrefix", r => r.PathRemovePrefix ?? "none"),
        ("requestHeaders", r => Transforms(r.RequestHeaders)),
        ("responseHeaders", r => Transforms(r.ResponseHeaders)),
    ];

    private static string Transforms(HeaderTransforms? t) => t is null ? "none"
        : $"set {string.Join(",", t.Set.Select(kv => kv.Key + "=" + kv.Value))}; append {string.Join(",", t.Append.Select(kv => kv.Key + "=" + kv.Value))}; remove {string.Join(",", t.Remove)}";

    internal static string Match(RouteDefinition r)
    {
        string methods = r.Methods.Count == 0 ? "*" : string.Join(",", r.Methods);
        string hosts = r.Hosts is { Count: > 0 } h ? $" on {string.Join(",", h)}" : "";
        string headers = r.Headers is { Count: > 0 } hd ? $" with {string.Join(",", hd.Select(m => m.Name))}" : "";
        return $"{methods} {r.Path}{hosts}{headers}";
    }

    /// <summary>
    /// A credentialed CORS origin that was not there before lets another site read answers (and pass the CSRF check) with
    /// the user's session cookie: weaker, like a lowered auth requirement, although the requirement itself is unchanged.
    /// </summary>
    private static bool WidensCredentialedOrigins(RouteDecision before, RouteDecision after)
    {
        if (after.Access.Rank == 0) return false;   // anonymous: no session for another site to borrow
        var old = DecisionAspects.CredentialedOrigins(before);
        return DecisionAspects.CredentialedOrigins(after).Any(o => !old.Contains(o));
    }
}
