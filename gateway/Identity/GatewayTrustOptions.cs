namespace Gateway.Identity;

/// <summary>The gateway's credential towards the backend's internal API. Section <c>Trust</c>; validated at start-up by <see cref="TrustOptionsValidator"/>.</summary>
internal sealed class GatewayTrustOptions
{
    /// <summary>
    /// Sent as <c>X-Gateway-Secret</c> on <c>/internal/**</c> calls (introspection, touch). Required, at least 32 bytes,
    /// different from every signing key (teams behind the gateway hold those); outside Development not a repository secret.
    /// </summary>
    public string InternalSecret { get; set; } = "";

    /// <summary>Removed: split into <see cref="InternalSecret"/> and <c>Signing:Clusters</c>. Setting it fails the start.</summary>
    public string? SharedSecret { get; set; }
}
