namespace Gateway.Routing;

/// <summary>The outcome of the last load of the route-class file (start-up or hot reload).</summary>
/// <param name="At">When the load was attempted.</param>
/// <param name="Ok">True when the file was valid and applied.</param>
/// <param name="ActiveVersion">The version serving now (the previous one when the load was rejected).</param>
/// <param name="AttemptedVersion">The version found in the file, when it could be read.</param>
/// <param name="Errors">Every validation error; empty when <paramref name="Ok"/>.</param>
internal sealed record ConfigReloadStatus(
    DateTimeOffset At, bool Ok, string ActiveVersion, string? AttemptedVersion, IReadOnlyList<string> Errors);
