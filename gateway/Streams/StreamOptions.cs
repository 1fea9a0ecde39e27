using System.ComponentModel.DataAnnotations;

namespace Gateway.Streams;

/// <summary>Section <c>Streams</c>: how open WebSockets, gRPC calls and server-sent event streams are watched and drained.</summary>
internal sealed class StreamOptions
{
    public const string SectionName = "Streams";

    /// <summary>
    /// How often the sessions of open streams are validated again (L1, Redis, backend, as any request), closing those no
    /// longer valid. This is what closes a revoked session's streams when the pub/sub message was lost (then within
    /// <c>Sessions:L1Ttl</c> + this interval) and those of sessions that expired while open.
    /// <value>The default value is 10 seconds.</value>
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00", ErrorMessage = "Streams:RevalidateInterval must be between {1} and {2}, e.g. 00:00:10.")]
    public TimeSpan RevalidateInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// On shutdown, how long open streams may go on before the gateway closes them; new streams are refused (503) from
    /// the start of shutdown. Must stay below the host's <c>HostOptions:ShutdownTimeout</c> (30 seconds by default).
    /// <value>The default value is 10 seconds.</value>
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00", ErrorMessage = "Streams:DrainTimeout must be between {1} and {2}, e.g. 00:00:10.")]
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Open WebSockets and event streams one user may have on this instance (streams opened with a session). Beyond it a
    /// new one gets 429 <c>too-many-streams</c>. Open streams hold no tier slot, so without a bound one user could take
    /// every upgraded connection the instance allows (<c>Kestrel:Limits:MaxConcurrentUpgradedConnections</c>). gRPC calls
    /// are not counted: they share HTTP/2 connections, which Kestrel bounds per connection. 0 means no limit.
    /// <value>The default value is 100.</value>
    /// </summary>
    [Range(0, 1_000_000, ErrorMessage = "Streams:MaxPerUser must be between {1} and {2} (0: no limit).")]
    public int MaxPerUser { get; set; } = 100;

    /// <summary>
    /// Open WebSockets and event streams from one client address (an IPv6 client's /64) on this instance, with or without
    /// a session: what bounds a client that signs up many accounts, and anonymous streams. Larger than
    /// <see cref="MaxPerUser"/>, because everyone behind one NAT or proxy shares an address. 0 means no limit.
    /// <value>The default value is 1000.</value>
    /// </summary>
    [Range(0, 1_000_000, ErrorMessage = "Streams:MaxPerAddress must be between {1} and {2} (0: no limit).")]
    public int MaxPerAddress { get; set; } = 1000;
}
