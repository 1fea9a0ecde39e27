using Gateway.Routing.Explain;

namespace Gateway.Routing.Diff;

/// <summary>The human-readable diff of <c>gateway validate --diff</c>: weaker access first, then exposed, removed, changed, then routes by name.</summary>
internal static class ConfigDiffText
{
    /// <summary>Sample requests shown per group; the rest are counted.</summary>
    private const int ShownRequests = 4;

    public static void Write(ConfigDiffReport report, TextWriter output)
    {
        output.WriteLine($"Access changes from version {report.OldVersion} to {report.NewVersion} ({report.Probes} sample requests compared{(report.Truncated ? ", PARTIAL: the sample limit was reached" : "")}):");
        if (report.Changes.Count == 0) output.WriteLine("  none: every sample request gets the same route, class, policies and cluster.");
        foreach (var change in report.Changes)
        {
            output.WriteLine($"  {Label(change.Kind),-8}{Summary(change)}");
            foreach (var c in change.Changes)
                if (c.Name is not ("auth" or "route")) output.WriteLine($"            {c.Name}: {c.Old ?? "none"} → {c.New ?? "none"}");
        }
        if (report.Routes.Count > 0)
        {
            output.WriteLine("Routes:");
            foreach (var route in report.Routes)
                output.WriteLine($"  {route.Change,-8}'{route.Route}': {string.Join("; ", route.Details)}");
        }
        output.WriteLine(report.HasWeakening
            ? $"WEAKER: access got weaker for {report.Weakened.Sum(w => w.Requests.Count)} sample request(s) in {report.Weakened.Count} group(s) (exit code 2)."
            : "No access got weaker.");
    }

    /// <summary>One line: who decided before and after, the requirement before and after, and sample requests.</summary>
    public static string Summary(AccessChange change)
    {
        string before = Side(change.Old), after = Side(change.New);
        string requests = string.Join(", ", change.Requests.Take(ShownRequests))
            + (change.Requests.Count > ShownRequests ? $" (+{change.Requests.Count - ShownRequests} more)" : "");
        return $"{before} → {after} for {requests}";
    }

    private static string Side(RouteDecision d) => d.Outcome switch
    {
        ExplainOutcome.Proxied => $"{d.Access} (route '{d.RouteId}', class '{d.Class.Name}')",
        ExplainOutcome.ServedByGateway or ExplainOutcome.HealthProbe => $"{d.Access} (served by the gateway, class '{d.Class.Name}')",
        ExplainOutcome.MethodNotAllowed => "405 (no route for this method)",
        _ => $"{d.FixedStatus} (no route)",
    };

    private static string Label(AccessChangeKind kind) => kind switch
    {
        AccessChangeKind.Weaker => "WEAKER",
        AccessChangeKind.Exposed => "EXPOSED",
        AccessChangeKind.Removed => "REMOVED",
        _ => "CHANGED",
    };
}
