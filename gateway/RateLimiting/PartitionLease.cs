namespace Gateway.RateLimiting;

/// <summary>
/// What one instance holds of one partition's shared quota: the tokens left from its last lease, a rejection it may
/// repeat without asking Redis, and how large its next lease should be. Guarded by locking the instance itself; every
/// method is O(1) and allocation-free. Times are microseconds since <see cref="RateLimitScripts.GcraEpoch"/>.
/// </summary>
/// <remarks>
/// Validity keeps the shared limit exact. Token bucket: token k of a lease is the request that would have seen the TAT
/// <c>base + k × interval</c>, and it may be used only while now ≤ that TAT; later it is skipped (wasted, never
/// admitted late). Sliding window: tokens are counted in the window they were leased in and are valid until it ends.
/// Unused tokens are not returned: giving them back would need a second script and could only ever be partial.
/// </remarks>
internal sealed class PartitionLease(bool tokenBucket)
{
    private const long KeepUs = 1_000_000;
    private readonly bool _tokenBucket = tokenBucket;
    private int _left;
    private double _nextTatUs;      // token bucket: the TAT the next token stands for
    private double _intervalUs;     // token bucket: emission interval
    private long _windowEndUs;      // sliding window: when the tokens in hand stop counting
    private long _blockedUntilUs;   // the shared quota had nothing for us before this instant
    private long _resetAtUs;
    private int _sharedRemaining;
    private int _size = 1;
    private long _lastLeaseUs;
    private long _lastPlanUs;
    private int _seen;
    private bool _wasted;

    /// <summary>True while a request of this instance is fetching the next lease for this partition.</summary>
    public bool Leasing { get; set; }

    /// <summary>
    /// Created by the first request that has to wait for the lease being fetched (the others of this partition wait on it
    /// instead of each asking Redis, then try again); an uncontended lease allocates nothing for it.
    /// </summary>
    public TaskCompletionSource? Waiters { get; set; }

    /// <summary>
    /// After this instant the entry holds nothing worth keeping: no live tokens, no rejection to repeat, and no lease in the
    /// last second (so a busy partition keeps the lease size it has learnt between two leases).
    /// </summary>
    public long ExpiresUs => Math.Max(Math.Max(_blockedUntilUs, _lastLeaseUs + KeepUs), _tokenBucket
        ? (_left > 0 ? (long)Math.Ceiling(_nextTatUs + (_left - 1) * _intervalUs) : 0)
        : (_left > 0 ? _windowEndUs : 0));

    /// <summary>Decides locally when possible: a token from the lease, or a rejection Redis already gave and that still holds.</summary>
    /// <param name="waited">True for a request coming back from waiting on <see cref="Waiters"/> (already counted in the pace).</param>
    public bool TryTake(long nowUs, bool waited, out RateLimitDecision decision)
    {
        if (!waited) _seen++;
        if (nowUs < _blockedUntilUs)
        {
            decision = new RateLimitDecision(false, 0, Until(_resetAtUs, nowUs), Until(_blockedUntilUs, nowUs), Local: false);
            return true;
        }
        if (_left > 0 && _tokenBucket && _nextTatUs < nowUs)
        {
            // Tokens whose TAT has passed would be admitted late, which the shared bucket never allowed: skip them.
            long skip = (long)Math.Ceiling((nowUs - _nextTatUs) / _intervalUs);
            _wasted = true;
            if (skip >= _left) _left = 0;
            else { _left -= (int)skip; _nextTatUs += skip * _intervalUs; }
        }
        else if (_left > 0 && !_tokenBucket && nowUs >= _windowEndUs)
        {
            _left = 0;
            _wasted = true;
        }
        if (_left == 0)
        {
            decision = default;
            return false;
        }
        _left--;
        _nextTatUs += _intervalUs;
        decision = new RateLimitDecision(true, _sharedRemaining + _left, Until(_resetAtUs, nowUs), TimeSpan.Zero, Local: false);
        return true;
    }

    /// <summary>
    /// Size of the next lease: 1 at first (a first request costs one token, as before leases); doubled up to <paramref name="cap"/> while leases are used up, halved when
    /// tokens expired unused, and never more than the requests seen so far would use within <paramref name="lifetimeUs"/>
    /// (a partition that sends one request a minute keeps leasing one token, exactly the old cost).
    /// <paramref name="offsetUs"/> (token bucket) is how far ahead the lease should start so that its last token is still
    /// valid when, at the observed pace, it is used.
    /// </summary>
    public int PlanLease(long nowUs, int cap, long lifetimeUs, double intervalUs, out long offsetUs)
    {
        offsetUs = 0;
        // The pace is requests seen (admitted, refused or leasing) per elapsed time since the last plan: refusals count,
        // so an instance that waits for the bucket does not mistake its waiting for a quiet partition.
        bool first = _lastPlanUs == 0;
        double gapUs = (double)(nowUs - _lastPlanUs) / Math.Max(1, _seen);
        _lastPlanUs = nowUs;
        _seen = 0;
        if (first) return _size = 1;
        _size = _wasted ? Math.Max(1, _size / 2) : Math.Min(cap, _size * 2);
        _wasted = false;
        if (gapUs > 0) _size = (int)Math.Clamp(1 + lifetimeUs / gapUs, 1, _size);
        if (_tokenBucket && _size > 1 && gapUs > intervalUs)
            offsetUs = (long)Math.Min((_size - 1) * (gapUs - intervalUs), cap * intervalUs);
        return _size;
    }

    /// <summary>Takes in a lease just fetched (its first token already used by the request that fetched it) or a rejection.</summary>
    public void Apply(long nowUs, in LeaseReply reply)
    {
        _resetAtUs = nowUs + reply.ResetAfterUs;
        if (reply.Granted == 0)
        {
            // The retry is when the asked-for batch fits: until then every request here gets the same answer.
            _blockedUntilUs = Math.Max(_blockedUntilUs, nowUs + reply.RetryAfterUs);
            return;
        }
        _sharedRemaining = reply.Remaining;
        _left = reply.Granted - 1;
        _intervalUs = reply.IntervalUs;
        _nextTatUs = reply.BaseUs + reply.IntervalUs;
        _windowEndUs = nowUs + reply.ResetAfterUs;
        _lastLeaseUs = nowUs;
    }

    private static TimeSpan Until(long atUs, long nowUs) => atUs > nowUs ? TimeSpan.FromTicks((atUs - nowUs) * 10) : TimeSpan.Zero;
}

/// <summary>A lease script's answer. <see cref="BaseUs"/> and <see cref="IntervalUs"/> are used by the token bucket only.</summary>
internal readonly record struct LeaseReply(int Granted, int Remaining, long RetryAfterUs, long ResetAfterUs, double BaseUs, double IntervalUs);
