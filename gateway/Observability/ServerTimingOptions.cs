namespace Gateway.Observability;

/// <summary>Configuration section <c>Observability:ServerTiming</c>: the standard <c>Server-Timing</c> response header.</summary>
internal sealed class ServerTimingOptions
{
    /// <summary>
    /// Adds <c>Server-Timing</c> (classify, validate, limit, cache, upstream, total; milliseconds) to every client response,
    /// which browser developer tools show as a timing breakdown. It tells any client how long each stage took (a session
    /// lookup that went to the backend, a cache miss), so it is for operators diagnosing, not for the open internet.
    /// <value>The default value is false.</value>
    /// </summary>
    public bool Enabled { get; set; }
}
