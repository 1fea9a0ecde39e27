using System.Diagnostics.Metrics;
using System.Globalization;
using Gateway.Pipeline;
using Gateway.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Gateway.RateLimiting;

/// <summary>
/// Distributed limiter on key <c>gw:v1:rl:{policy:partition}</c> (token bucket: <c>gw:v2:rl:</c>), shared by every instance.
/// Each instance leases tokens in batches with one atomic Lua call and admits from them locally (<see cref="PartitionLease"/>):
/// a quiet partition leases one token per request, exactly the old cost; a busy one grows its lease up to
/// <c>limit / LeaseDivisor</c>. Leased tokens are counted in Redis when leased, so the instances together never admit more
/// than the limit. Redis calls are counted in <c>gateway.ratelimit.leases</c>. When Redis is unavailable the decision is
/// made by <see cref="LocalRateLimiter"/> (counted in <c>gateway.ratelimit.fallback</c>, logged once per switch).
/// </summary>
internal sealed partial class RedisRateLimiter : IDisposable
{
    private readonly IRedisClient _redis;
    private readonly TimeProvider _time;
    private readonly ILogger<RedisRateLimiter> _logger;
    private readonly LocalRateLimiter _local;
    private readonly LeaseTable? _leases;
    private readonly int _leaseDivisor;
    private readonly Counter<long> _fallback;
    private readonly Counter<long> _leaseCalls;
    private int _inFallback;

    public RedisRateLimiter(IRedisClient redis, IOptions<RateLimitingOptions> options, TimeProvider time,
        ILogger<RedisRateLimiter> logger, IMeterFactory? meterFactory = null)
    {
        _redis = redis;
        _time = time;
        _logger = logger;
        _local = new LocalRateLimiter(options.Value.InstanceCount);
        _leases = options.Value.Leasing ? new LeaseTable(options.Value.MaxLeasedPartitions) : null;
        _leaseDivisor = options.Value.LeaseDivisor;
        var meter = meterFactory?.Create("Gateway") ?? new Meter("Gateway");
        _fallback = meter.CreateCounter<long>("gateway.ratelimit.fallback", description: "Rate-limit decisions made by the local fallback because Redis was unavailable.");
        _leaseCalls = meter.CreateCounter<long>("gateway.ratelimit.leases", description: "Redis calls made by the rate limiter (each takes a lease of one or more tokens, or is rejected).");
    }

    /// <summary>True while decisions come from the local fallback.</summary>
    public bool InFallback => Volatile.Read(ref _inFallback) == 1;

    /// <summary>Partitions this instance holds lease state for.</summary>
    internal int LeasedPartitions => _leases?.Count ?? 0;

    /// <summary>
    /// Token-bucket keys are v2: their value became microseconds since <see cref="RateLimitScripts.GcraEpoch"/> (it was
    /// milliseconds since 1970), and a v1 gateway reading a v2 value would see a TAT years ahead and reject everything.
    /// </summary>
    public static string Key(RateLimitRule rule, string partition) =>
        (rule.Algorithm == RateLimitAlgorithm.TokenBucket ? "gw:v2:rl:{" : "gw:v1:rl:{") + rule.Name + ":" + partition + "}";

    /// <summary>Decides from this instance's lease when it can (synchronously, without allocating), else asks Redis.</summary>
    /// <param name="cancellationToken">
    /// The request's (<see cref="HttpContext.RequestAborted"/>: its class's deadline, its client leaving). It ends only this
    /// request's wait for Redis, never the lease fetch, which the requests waiting for it share: Redis's time-box
    /// (<c>Redis:OperationTimeout</c>) may be longer than a class's <c>timeoutMs</c>.
    /// </param>
    public ValueTask<RateLimitDecision> AcquireAsync(RateLimitRule rule, string partition, CancellationToken cancellationToken = default) =>
        AcquireAsync(rule, partition, waited: false, cancellationToken);

    /// <summary>
    /// As <see cref="AcquireAsync(RateLimitRule, string)"/> for a partition formatted on the stack: a partition this
    /// instance already holds a lease for is decided from it without a string (the common case of every request); the
    /// string is made only when the lease is new or Redis is asked.
    /// </summary>
    public ValueTask<RateLimitDecision> AcquireAsync(RateLimitRule rule, ReadOnlySpan<char> partition, CancellationToken cancellationToken = default)
    {
        var utcNow = _time.GetUtcNow();
        long nowUs = (utcNow - RateLimitScripts.GcraEpoch).Ticks / 10;
        var lease = _leases?.Find(rule, partition);
        return lease is null
            ? AcquireAsync(rule, partition.ToString(), waited: false, cancellationToken)
            : Decide(rule, lease, partition, null, utcNow, nowUs, waited: false, cancellationToken);
    }

    private ValueTask<RateLimitDecision> AcquireAsync(RateLimitRule rule, string partition, bool waited, CancellationToken cancellationToken)
    {
        var utcNow = _time.GetUtcNow();
        long nowUs = (utcNow - RateLimitScripts.GcraEpoch).Ticks / 10;
        var lease = _leases?.Get(rule, partition, nowUs);
        if (lease is null)
            return cancellationToken.IsCancellationRequested   // the request is gone already: no Redis call for it
                ? ValueTask.FromCanceled<RateLimitDecision>(cancellationToken)
                : AcquireFromRedisAsync(rule, partition, utcNow, nowUs, null, 1, 0).WaitAsync(cancellationToken);
        return Decide(rule, lease, partition, partition, utcNow, nowUs, waited, cancellationToken);
    }

    /// <summary>From the lease when it can; else the one request that fetches the next lease, or a wait for it.</summary>
    /// <param name="text">The partition as a string when the caller has one; made from <paramref name="partition"/> otherwise.</param>
    private ValueTask<RateLimitDecision> Decide(RateLimitRule rule, PartitionLease lease, ReadOnlySpan<char> partition, string? text,
        DateTimeOffset utcNow, long nowUs, bool waited, CancellationToken cancellationToken)
    {
        int want;
        long offsetUs;
        lock (lease)
        {
            if (lease.TryTake(nowUs, waited, out var local)) return ValueTask.FromResult(local);
            // One request per partition fetches the next lease; the ones arriving meanwhile wait for it and try again.
            if (lease.Leasing)
                return WaitForLeaseAsync((lease.Waiters ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task,
                    rule, text ?? partition.ToString(), cancellationToken);
            // A request already gone (its deadline, its client) does not become the fetcher: no Redis call for it.
            if (cancellationToken.IsCancellationRequested) return ValueTask.FromCanceled<RateLimitDecision>(cancellationToken);
            lease.Leasing = true;
            want = lease.PlanLease(nowUs, MaxLease(rule), LeaseLifetimeUs(rule, utcNow), IntervalUs(rule), out offsetUs);
        }
        // The fetch runs to its end whoever stops waiting for it: it applies the lease and wakes the waiters. A fetcher
        // that left wastes the one token it took (under-admission, never over).
        return AcquireFromRedisAsync(rule, text ?? partition.ToString(), utcNow, nowUs, lease, want, offsetUs).WaitAsync(cancellationToken);
    }

    private async ValueTask<RateLimitDecision> WaitForLeaseAsync(Task pending, RateLimitRule rule, string partition, CancellationToken cancellationToken)
    {
        // A waiter that leaves stops here: it takes no token and fetches nothing for a request that is gone.
        await pending.WaitAsync(cancellationToken).ConfigureAwait(false);
        return await AcquireAsync(rule, partition, waited: true, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<RateLimitDecision> AcquireFromRedisAsync(RateLimitRule rule, string partition, DateTimeOffset utcNow,
        long nowUs, PartitionLease? lease, int want, long offsetUs)
    {
        try
        {
            bool tokenBucket = rule.Algorithm == RateLimitAlgorithm.TokenBucket;
            RedisValue[] args = tokenBucket
                ? [nowUs, IntervalUs(rule), rule.Burst ?? rule.Limit, want, offsetUs]
                : [utcNow.ToUnixTimeMilliseconds(), (long)rule.Window.TotalMilliseconds, rule.Limit, want];
            var script = tokenBucket ? RateLimitScripts.Gcra : RateLimitScripts.SlidingWindow;

            _leaseCalls.Add(1, new KeyValuePair<string, object?>("policy", rule.Name));
            var result = await _redis.EvaluateAsync(script, [Key(rule, partition)], args).ConfigureAwait(false);
            if (result.Ok && result.Value is { } value && TryParse(value, tokenBucket, nowUs, IntervalUs(rule), out var reply))
            {
                if (Interlocked.Exchange(ref _inFallback, 0) == 1) Log.FallbackEnded(_logger);
                if (lease is not null) lock (lease) lease.Apply(nowUs, reply);
                var resetAfter = TimeSpan.FromTicks(reply.ResetAfterUs * 10);
                return reply.Granted > 0
                    ? new RateLimitDecision(true, reply.Remaining + reply.Granted - 1, resetAfter, TimeSpan.Zero, Local: false)
                    : new RateLimitDecision(false, 0, resetAfter, TimeSpan.FromTicks(reply.RetryAfterUs * 10), Local: false);
            }

            if (Interlocked.Exchange(ref _inFallback, 1) == 0) Log.FallbackStarted(_logger);
            _fallback.Add(1, new KeyValuePair<string, object?>("policy", rule.Name));
            return _local.Acquire(rule, partition);
        }
        finally
        {
            if (lease is not null)
            {
                TaskCompletionSource? waiters;
                lock (lease)
                {
                    lease.Leasing = false;
                    waiters = lease.Waiters;
                    lease.Waiters = null;
                }
                waiters?.TrySetResult();
            }
        }
    }

    private int MaxLease(RateLimitRule rule) => Math.Max(1,
        (rule.Algorithm == RateLimitAlgorithm.TokenBucket ? Math.Min(rule.Limit, rule.Burst ?? rule.Limit) : rule.Limit) / _leaseDivisor);

    private static double IntervalUs(RateLimitRule rule) => Math.Max(RateLimitScripts.MinIntervalUs, rule.Window.Ticks / 10.0 / rule.Limit);

    /// <summary>
    /// How long a lease's tokens can be expected to stay usable: sliding window, until the current window ends; token
    /// bucket, about two leases' worth of emission intervals (the start offset plus the lease itself).
    /// </summary>
    private long LeaseLifetimeUs(RateLimitRule rule, DateTimeOffset utcNow)
    {
        if (rule.Algorithm == RateLimitAlgorithm.TokenBucket) return (long)(2 * MaxLease(rule) * IntervalUs(rule));
        long windowMs = (long)rule.Window.TotalMilliseconds;
        return (windowMs - utcNow.ToUnixTimeMilliseconds() % windowMs) * 1000;
    }

    private static bool TryParse(RedisResult result, bool tokenBucket, long nowUs, double intervalUs, out LeaseReply reply)
    {
        reply = default;
        if (result.IsNull) return false;
        var values = (RedisResult[]?)result;
        if (values is not { Length: >= 4 }) return false;
        int granted = (int)(long)values[0];
        long resetAfterUs = (long)values[3];
        double baseUs = 0;
        if (tokenBucket && granted > 0)
        {
            if (values.Length < 5 || !double.TryParse((string?)values[4], NumberStyles.Float, CultureInfo.InvariantCulture, out baseUs)) return false;
        }
        else if (!tokenBucket)
        {
            // The script counts in whole milliseconds: its window ends resetAfter after the start of the current millisecond.
            resetAfterUs -= nowUs % 1000;
        }
        reply = new LeaseReply(granted, (int)Math.Max(0, (long)values[1]), (long)values[2], resetAfterUs, baseUs, intervalUs);
        return true;
    }

    public void Dispose() => _local.Dispose();

    private static partial class Log
    {
        [LoggerMessage(3001, LogLevel.Warning, "Redis is unavailable: rate limits are enforced per instance (limit / instance count) until it returns.", EventName = "RateLimitFallbackStarted")]
        public static partial void FallbackStarted(ILogger logger);

        [LoggerMessage(3002, LogLevel.Warning, "Redis is back: rate limits are distributed again.", EventName = "RateLimitFallbackEnded")]
        public static partial void FallbackEnded(ILogger logger);
    }
}
