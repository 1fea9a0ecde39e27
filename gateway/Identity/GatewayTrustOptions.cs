using System.ComponentModel.DataAnnotations;

namespace Gateway.Identity;

/// <summary>Trust between gateway and backend. Section <c>Trust</c>.</summary>
public sealed class GatewayTrustOptions
{
    /// <summary>Shared secret for signed identity headers and <c>X-Gateway-Secret</c>. Required, at least 32 bytes.</summary>
    [Required, MinLength(32)] public string SharedSecret { get; set; } = "";
}
