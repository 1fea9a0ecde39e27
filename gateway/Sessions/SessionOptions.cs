using System.ComponentModel.DataAnnotations;

namespace Gateway.Sessions;

/// <summary>Session validation caches, introspection and activity flushing. Section <c>Sessions</c>.</summary>
internal sealed class SessionOptions
{
    /// <summary>Longest time a session stays in the in-process L1 cache (never beyond its expiry). <value>The default is 30 seconds.</value></summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan L1Ttl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an unknown or revoked token (introspection 404) is remembered. <value>The default is 5 seconds.</value></summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan NegativeTtl { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Most L1 entries. <value>The default is 100 000.</value></summary>
    [Range(16, 10_000_000)]
    public int L1MaxEntries { get; set; } = 100_000;

    /// <summary>Approximate memory bound of L1 in bytes. <value>The default is 64 MiB.</value></summary>
    [Range(4096, long.MaxValue)]
    public long L1MaxBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Time-box of one introspection call. <value>The default is 2 seconds.</value></summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan IntrospectionTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Consecutive introspection failures that open its breaker. <value>The default is 5.</value></summary>
    [Range(1, 1000)]
    public int BreakerFailureThreshold { get; set; } = 5;

    /// <summary>How long an open introspection breaker fails fast. <value>The default is 5 seconds.</value></summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan BreakerOpenDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often seen sessions are reported to <c>POST /internal/sessions/touch</c>. <value>The default is 30 seconds.</value></summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:30:00")]
    public TimeSpan ActivityFlushInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Name of the cookie that may carry the token. <value>The default is <c>session</c>.</value></summary>
    [Required] public string CookieName { get; set; } = "session";

    /// <summary>
    /// Whether backends receive the client's session credential: the <c>Authorization</c> header of a request whose
    /// Bearer token the gateway validated, and the session cookie (<see cref="CookieName"/>) on any route. Off, backends
    /// get the signed identity headers and never the token, which they could log or replay at the edge; an
    /// <c>Authorization</c> header on an anonymous route (a partner's API key, say) is forwarded either way.
    /// <value>The default is false.</value>
    /// </summary>
    public bool ForwardCredential { get; set; }
}
