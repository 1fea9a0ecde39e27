using System.ComponentModel.DataAnnotations;

namespace Gateway.Proxy;

/// <summary>Forwarding to backends. Section <c>Forwarding</c>.</summary>
internal sealed class ForwardingOptions
{
    public const string SectionName = "Forwarding";

    /// <summary>
    /// Propagate W3C trace context (<c>traceparent</c>) to backends. Off by default: the observability stage turns it on
    /// together with tracing. <value>The default is false.</value>
    /// </summary>
    public bool PropagateActivityHeaders { get; set; }

    /// <summary>How long a pooled backend connection is reused. <value>The default is 5 minutes.</value></summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00", ErrorMessage = "Forwarding:PooledConnectionLifetime must be between {1} and {2}, e.g. 00:05:00.")]
    public TimeSpan PooledConnectionLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Upper bound on open connections to one backend; requests beyond it wait for a free connection. Unbounded, 1,024
    /// client connections became 1,024 backend connections, each in-flight response holding a 64 KiB copy buffer, on a
    /// backend that cannot run more than a few requests at once anyway (docs/performance.md). 0 means unbounded.
    /// <value>The default is 256.</value>
    /// </summary>
    [Range(0, int.MaxValue, ErrorMessage = "Forwarding:MaxConnectionsPerServer must be 0 (unbounded) or a positive number of connections, e.g. 256.")]
    public int MaxConnectionsPerServer { get; set; } = 256;

    /// <summary>
    /// Request bodies one client (an address, or an IPv6 /64) may stream to backends at once: chunked bodies, bodies
    /// without a length and bodies over 64 KiB (smaller ones are read whole first). Each holds a backend stream (100 on the
    /// shared h2c connection) or a pooled connection until it ends, so one client trickling more of them than the
    /// connection has streams made every other client's request wait until its deadline, and those 504s opened the
    /// breaker for everyone. One more is refused 429 <c>too-many-uploads</c>. 0 means unbounded.
    /// <value>The default is 32.</value>
    /// </summary>
    [Range(0, int.MaxValue, ErrorMessage = "Forwarding:MaxStreamedBodiesPerClient must be 0 (unbounded) or a positive number, e.g. 32.")]
    public int MaxStreamedBodiesPerClient { get; set; } = 32;
}
