using System.Text.Json;

namespace Gateway.Observability;

/// <summary>
/// One section of <c>/gateway/status</c>. <see cref="WriteStatus"/> writes exactly one JSON value (normally an object,
/// with a boolean <c>healthy</c> member when that applies). Called on operator requests only, never on the hot path.
/// </summary>
internal interface IStatusContributor
{
    /// <summary>The property name of the section, e.g. <c>redis</c>.</summary>
    string Name { get; }

    void WriteStatus(Utf8JsonWriter writer);
}

/// <summary>The route-class configuration's reload outcome for <c>/gateway/status</c> (the gateway adapts its route table).</summary>
internal interface IConfigStatusSource
{
    ConfigStatusSnapshot GetConfigStatus();
}

/// <param name="Version">Configuration version currently applied.</param>
/// <param name="LastReloadAt">When the last reload was attempted; null when none since start.</param>
/// <param name="LastReloadSucceeded">Outcome of the last reload attempt.</param>
/// <param name="Errors">Validation errors of the last failed reload; empty otherwise.</param>
/// <param name="Path">The absolute path of the configuration file in use; null when not file-based.</param>
/// <param name="AttemptedVersion">The version the last load attempt found in the file (null when unreadable).</param>
/// <param name="LastRejected">The last rejected load, kept after later successes; null when none since start.</param>
/// <param name="LastChange">The access comparison of the last applied reload with the version before it; null when none.</param>
/// <param name="LastWeakening">The last applied reload that weakened access, kept after later reloads; null when none.</param>
internal sealed record ConfigStatusSnapshot(string Version, DateTimeOffset? LastReloadAt, bool LastReloadSucceeded, IReadOnlyList<string> Errors,
    string? Path = null, string? AttemptedVersion = null, RejectedConfigSnapshot? LastRejected = null,
    ConfigChangeSnapshot? LastChange = null, ConfigChangeSnapshot? LastWeakening = null);

/// <summary>What an applied reload changed in access (docs/gateway.md, "Safe config changes").</summary>
/// <param name="Changes">How many request groups changed in any way (route, class, policy, cluster, access).</param>
/// <param name="Weakened">Every request group whose auth requirement got lower; empty when none.</param>
/// <param name="Note">Why the comparison is missing or partial; null when complete.</param>
internal sealed record ConfigChangeSnapshot(DateTimeOffset At, string FromVersion, string ToVersion, int Changes, IReadOnlyList<WeakenedAccess> Weakened, string? Note);

/// <param name="Summary">One line: requirement and route before → after, and sample requests.</param>
/// <param name="Requests">The sample requests of the group, e.g. <c>GET /admin/probe (host a.example.com)</c>.</param>
internal sealed record WeakenedAccess(string Summary, string? OldRoute, string? NewRoute, string OldAuth, string NewAuth, IReadOnlyList<string> Requests);

/// <param name="Version">The version the rejected file declared; null when it could not be read.</param>
/// <param name="At">When it was rejected.</param>
/// <param name="Errors">Every validation error of that attempt.</param>
internal sealed record RejectedConfigSnapshot(string? Version, DateTimeOffset At, IReadOnlyList<string> Errors);

/// <summary>The backend's health as the core's readiness probe last saw it.</summary>
internal interface IBackendHealthSource
{
    BackendHealthSnapshot GetBackendHealth();
}

/// <param name="Healthy">Whether the backend answered its last probe.</param>
/// <param name="CheckedAt">When it was last probed; null when never.</param>
/// <param name="Detail">Short human-readable detail (status code, error kind); never a secret.</param>
internal sealed record BackendHealthSnapshot(bool Healthy, DateTimeOffset? CheckedAt, string? Detail);
