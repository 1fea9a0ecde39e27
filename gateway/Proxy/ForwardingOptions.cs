namespace Gateway.Proxy;

/// <summary>Forwarding to backends. Section <c>Forwarding</c>.</summary>
public sealed class ForwardingOptions
{
    /// <summary>
    /// Propagate W3C trace context (<c>traceparent</c>) to backends. Off by default: the observability stage turns it on
    /// together with tracing. <value>The default is false.</value>
    /// </summary>
    public bool PropagateActivityHeaders { get; set; }

    /// <summary>How long a pooled backend connection is reused. <value>The default is 5 minutes.</value></summary>
    public TimeSpan PooledConnectionLifetime { get; set; } = TimeSpan.FromMinutes(5);
}
