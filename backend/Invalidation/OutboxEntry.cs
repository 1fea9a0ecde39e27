using Gateway.Contracts;
namespace Backend.Invalidation;

/// <summary>
/// One row of <c>invalidation_outbox</c>: what Redis must be told after a commit. <see cref="Fence"/> is
/// <see cref="Revoked"/> for revoked sessions, a principal version for changed memberships, or null (no fence).
/// </summary>
internal sealed record OutboxEntry(
    long Id, string Kind, string Reason, Guid? UserId, Guid? OrgId, string[] TokenHashes, long? Fence, DateTime? FenceUntil)
{
    public const long Revoked = -1;

    /// <summary>The channel message of this entry; <c>at</c> is the time of publishing, which gateways report as propagation delay.</summary>
    public InvalidationMessage ToMessage(DateTimeOffset publishedAt) => new(
        Kind, Reason, publishedAt.ToUnixTimeMilliseconds(),
        SessionHash: Kind == InvalidationMessage.KindSession && TokenHashes.Length > 0 ? TokenHashes[0] : null,
        UserId: Kind == InvalidationMessage.KindOrg ? null : UserId?.ToString(),
        OrgId: Kind == InvalidationMessage.KindOrg ? OrgId?.ToString() : null);
}
