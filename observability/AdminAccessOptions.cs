namespace Gateway.Observability;

/// <summary>Configuration section <c>Admin</c>: who may call <c>/metrics</c> and <c>/gateway/*</c>.</summary>
public sealed class AdminAccessOptions
{
    public const string SectionName = "Admin";

    /// <summary>
    /// When set, a request carrying header <c>X-Admin-Key</c> equal to it is admin (compared in constant time).
    /// The default value is null (no key: only loopback, if allowed).
    /// </summary>
    public string? Key { get; set; }

    /// <summary>Whether requests from a loopback address are admin without a key. The default value is true.</summary>
    public bool AllowLoopback { get; set; } = true;
}
