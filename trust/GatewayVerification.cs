using System.Net;

namespace Gateway.Trust;

public enum GatewayVerificationStatus
{
    /// <summary>No gateway header at all: the request did not come through the gateway (or not from one that signs).</summary>
    Unsigned,
    /// <summary>A fresh signature by one of the configured keys over exactly these values.</summary>
    Valid,
    /// <summary>Gateway headers without a valid, fresh signature: never to be treated as anonymous.</summary>
    Invalid,
}

/// <summary>
/// What <see cref="GatewayRequestVerifier"/> found on a request; kept in <c>HttpContext.Features</c> so the signature is
/// checked once per request, however many stages read it.
/// </summary>
public sealed class GatewayVerification
{
    internal static readonly GatewayVerification Unsigned = new(GatewayVerificationStatus.Unsigned, null, default, null, "");

    internal GatewayVerification(GatewayVerificationStatus status, string? failure, SignedIdentity identity, IPAddress? clientIp, string keyId)
    {
        Status = status;
        Failure = failure;
        Identity = identity;
        ClientIp = clientIp;
        KeyId = keyId;
    }

    internal static GatewayVerification Invalid(string failure) => new(GatewayVerificationStatus.Invalid, failure, default, null, "");

    public GatewayVerificationStatus Status { get; }

    /// <summary>Why the request is <see cref="GatewayVerificationStatus.Invalid"/>; null otherwise.</summary>
    public string? Failure { get; }

    /// <summary>The signed identity; empty user and session ids on anonymous requests.</summary>
    public SignedIdentity Identity { get; }

    /// <summary>The client address the gateway vouches for, when valid and known.</summary>
    public IPAddress? ClientIp { get; }

    /// <summary>The key that made the signature, when valid.</summary>
    public string KeyId { get; }

    public bool HasUser => Identity.UserId is { Length: > 0 };
}
