using Gateway.Routing.Explain;

namespace Gateway.Routing.Diff;

/// <summary>How the decision for a group of sample requests changed between two versions.</summary>
internal enum AccessChangeKind
{
    /// <summary>Served in both, with a lower auth requirement now (session → anonymous, a role lowered or dropped).</summary>
    Weaker,
    /// <summary>Served now, answered 404/405 by routing before (a new route, method or host); listed with its requirement.</summary>
    Exposed,
    /// <summary>Served before, answered 404/405 by routing now.</summary>
    Removed,
    /// <summary>Served in both with the same or a stronger requirement, but another route, class, policy, cluster or transform.</summary>
    Changed,
}

/// <param name="Name">The <see cref="DecisionAspect"/> name, e.g. <c>auth</c>.</param>
/// <param name="Old">The old value; null when it did not apply.</param>
/// <param name="New">The new value; null when it no longer applies.</param>
internal sealed record AspectChange(string Name, string? Old, string? New);

/// <summary>Sample requests whose decision changed the same way (same routes before and after, same changes).</summary>
/// <param name="Old">The decision of the first of <paramref name="Requests"/> in the old version.</param>
/// <param name="New">Its decision in the new version.</param>
internal sealed record AccessChange(AccessChangeKind Kind, RouteDecision Old, RouteDecision New, IReadOnlyList<AspectChange> Changes,
    IReadOnlyList<RequestProbe> Requests);

/// <summary>A route of the file (by name) that was added, removed or edited; <paramref name="Details"/> name each edited field.</summary>
internal sealed record RouteChange(string Route, string Change, IReadOnlyList<string> Details);

/// <summary>The outcome of comparing two valid route-class versions.</summary>
/// <param name="Probes">How many sample requests were compared.</param>
/// <param name="Truncated">True when the sample set reached <see cref="ProbeSet.MaxProbes"/> and the comparison is partial.</param>
internal sealed record ConfigDiffReport(string OldVersion, string NewVersion, IReadOnlyList<AccessChange> Changes, IReadOnlyList<RouteChange> Routes,
    int Probes, bool Truncated)
{
    public IReadOnlyList<AccessChange> Weakened => [.. Changes.Where(c => c.Kind == AccessChangeKind.Weaker)];

    public bool HasWeakening => Changes.Any(c => c.Kind == AccessChangeKind.Weaker);

    /// <summary>One line per weakened group, e.g. <c>route 'admin' role:admin → anonymous (route 'site') for GET /admin, …</c>.</summary>
    public IReadOnlyList<string> WeakenedSummary() => [.. Weakened.Select(ConfigDiffText.Summary)];
}
