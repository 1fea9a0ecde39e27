namespace Gateway.Contracts;

/// <summary>
/// The Redis side of a session (docs/contracts.md, "Redis keys" and "Revocation fences"): key names, the invalidation
/// channel, and the two Lua scripts through which every writer and every revoker goes. The braces are Redis Cluster hash
/// tags: a session key and its fence share one slot, so each script touches a single slot.
/// </summary>
public static class SessionRedisContract
{
    public const string InvalidationChannel = "gw:v1:invalidate";

    /// <summary>
    /// The longest a principal may live in Redis, whatever its own expiry. Bounds how long a principal written by a stale
    /// writer, or left behind by a Redis failover that lost a fence, can be served. <value>5 minutes.</value>
    /// </summary>
    public static readonly TimeSpan MaxPrincipalTtl = TimeSpan.FromMinutes(5);

    /// <summary>The fence value that marks a revoked session: no principal of it is ever written again.</summary>
    public const string Revoked = "revoked";

    public static string SessionKey(string tokenHashHex) => "gw:v1:session:{" + tokenHashHex + "}";

    public static string FenceKey(string tokenHashHex) => "gw:v1:fence:{" + tokenHashHex + "}";

    /// <summary>Time to live of a principal written now: until it dies, at most <see cref="MaxPrincipalTtl"/>.</summary>
    public static TimeSpan PrincipalTtl(DateTimeOffset validUntil, DateTimeOffset now)
    {
        var ttl = validUntil - now;
        return ttl > MaxPrincipalTtl ? MaxPrincipalTtl : ttl;
    }

    /// <summary>
    /// Writes a principal unless its session is fenced. KEYS: session key, fence key. ARGV: principal JSON, TTL in
    /// milliseconds, the principal's version. Returns 1 when written, 0 when the fence refused it: the session was revoked,
    /// or the principal was read before a change that raised the fence above its version (a stale writer).
    /// </summary>
    public const string SetUnlessFencedScript = """
        local fence = redis.call('GET', KEYS[2])
        if fence then
          if fence == 'revoked' then return 0 end
          if tonumber(ARGV[3]) < tonumber(fence) then return 0 end
        end
        redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
        return 1
        """;

    /// <summary>
    /// Raises a session's fence and deletes its principal, atomically. KEYS: session key, fence key. ARGV: the new fence
    /// (<see cref="Revoked"/> or a principal version), the fence's TTL in milliseconds. A fence only ever rises: revoked
    /// stays revoked, and a lower version never replaces a higher one, so deliveries may repeat and arrive in any order.
    /// Optional ARGV[3] and ARGV[4]: a channel and a message, published after the delete in the same atomic step (an
    /// invalidation that names one session costs one round trip, and a gateway that reacts by reading Redis finds the
    /// principal gone).
    /// </summary>
    public const string FenceScript = """
        local current = redis.call('GET', KEYS[2])
        if current ~= 'revoked' then
          if ARGV[1] == 'revoked' or not current or tonumber(current) < tonumber(ARGV[1]) then
            redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
          end
        end
        redis.call('DEL', KEYS[1])
        if ARGV[3] then redis.call('PUBLISH', ARGV[3], ARGV[4]) end
        return 1
        """;
}
