namespace Gateway.Observability;

/// <summary>
/// The gateway's operator listener. Section <c>Admin</c> (the same section as <see cref="AdminAccessOptions"/>, which
/// says who may call it). <c>/metrics</c> and <c>/gateway/*</c> answer only on this listener, and it answers nothing else
/// (besides <c>/health</c> and <c>/ready</c>), like Envoy's admin port or Kong's admin API.
/// </summary>
internal sealed class AdminListenerOptions
{
    /// <summary>
    /// Where the operator listener binds: <c>http://host:port</c> with a port of its own (not one of the public
    /// listener's). Bound beyond loopback (<c>0.0.0.0</c>, a LAN address, a host name), it requires <c>Admin:Key</c> on
    /// every request, loopback included, and the gateway refuses to start without one. Empty: no operator listener.
    /// <value>The default is <c>http://127.0.0.1:9080</c>.</value>
    /// </summary>
    public string? Url { get; set; } = "http://127.0.0.1:9080";
}
