namespace Backend.Invalidation;

/// <summary>
/// One row of <c>invalidation_outbox</c>: what Redis must be told after a commit. <see cref="Fence"/> is
/// <see cref="Revoked"/> for revoked sessions, a principal version for changed memberships, or null (no fence).
/// </summary>
internal sealed record OutboxEntry(
    long Id, string Kind, string Reason, Guid? UserId, Guid? OrgId, string[] TokenHashes, long? Fence, DateTime? FenceUntil)
{
    public const long Revoked = -1;
}
