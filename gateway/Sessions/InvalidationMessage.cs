namespace Gateway.Sessions;

/// <summary>One message of channel <c>gw:v1:invalidate</c> (docs/contracts.md).</summary>
/// <param name="Kind"><c>session</c>, <c>user</c>, <c>user-data</c>, <c>org</c>; other kinds are ignored.</param>
/// <param name="SessionHash">Token hash (hex) for <c>session</c>.</param>
/// <param name="UserId">For <c>session</c>, <c>user</c>, <c>user-data</c>.</param>
/// <param name="OrgId">For <c>org</c>.</param>
/// <param name="At">Publish time (Unix milliseconds).</param>
public sealed record InvalidationMessage(string Kind, string? SessionHash, string? UserId, string? OrgId, string? Reason, long At)
{
    public const string KindSession = "session";
    public const string KindUser = "user";
    public const string KindUserData = "user-data";
    public const string KindOrg = "org";
}

/// <summary>
/// Invalidations received from the backend, after the gateway evicted its L1 sessions. The response cache hooks
/// <see cref="Invalidated"/> to evict user- and org-tagged responses.
/// </summary>
public interface IInvalidationBus
{
    event Action<InvalidationMessage>? Invalidated;
}
