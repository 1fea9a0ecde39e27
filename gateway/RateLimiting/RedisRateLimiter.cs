using System.Diagnostics.Metrics;
using Gateway.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Gateway.RateLimiting;

/// <summary>
/// Distributed limiter: one atomic Lua call per check on key <c>gw:v1:rl:{policy:partition}</c>, so every instance
/// shares the counters. When Redis is unavailable the decision is made by <see cref="LocalRateLimiter"/>
/// (counted in <c>gateway.ratelimit.fallback</c>, logged once per switch).
/// </summary>
internal sealed partial class RedisRateLimiter : IDisposable
{
    private readonly IRedisClient _redis;
    private readonly TimeProvider _time;
    private readonly ILogger<RedisRateLimiter> _logger;
    private readonly LocalRateLimiter _local;
    private readonly Counter<long> _fallback;
    private int _inFallback;

    public RedisRateLimiter(IRedisClient redis, IOptions<RateLimitingOptions> options, TimeProvider time,
        ILogger<RedisRateLimiter> logger, IMeterFactory? meterFactory = null)
    {
        _redis = redis;
        _time = time;
        _logger = logger;
        _local = new LocalRateLimiter(options.Value.InstanceCount);
        var meter = meterFactory?.Create("Gateway") ?? new Meter("Gateway");
        _fallback = meter.CreateCounter<long>("gateway.ratelimit.fallback", description: "Rate-limit decisions made by the local fallback because Redis was unavailable.");
    }

    /// <summary>True while decisions come from the local fallback.</summary>
    public bool InFallback => Volatile.Read(ref _inFallback) == 1;

    /// <summary>
    /// Token-bucket keys are v2: their value became microseconds since <see cref="RateLimitScripts.GcraEpoch"/> (it was
    /// milliseconds since 1970), and a v1 gateway reading a v2 value would see a TAT years ahead and reject everything.
    /// </summary>
    public static string Key(RateLimitRule rule, string partition) =>
        (rule.Algorithm == RateLimitAlgorithm.TokenBucket ? "gw:v2:rl:{" : "gw:v1:rl:{") + rule.Name + ":" + partition + "}";

    public async ValueTask<RateLimitDecision> AcquireAsync(RateLimitRule rule, string partition)
    {
        var utcNow = _time.GetUtcNow();
        RedisValue[] args = rule.Algorithm == RateLimitAlgorithm.TokenBucket
            ? [(utcNow - RateLimitScripts.GcraEpoch).Ticks / 10,
               Math.Max(RateLimitScripts.MinIntervalUs, rule.Window.Ticks / 10.0 / rule.Limit), rule.Burst ?? rule.Limit]
            : [utcNow.ToUnixTimeMilliseconds(), (long)rule.Window.TotalMilliseconds, rule.Limit];
        var script = rule.Algorithm == RateLimitAlgorithm.TokenBucket ? RateLimitScripts.Gcra : RateLimitScripts.SlidingWindow;

        var reply = await _redis.EvaluateAsync(script, [Key(rule, partition)], args).ConfigureAwait(false);
        if (reply.Ok && reply.Value is { } result && TryParse(result, out var decision))
        {
            if (Interlocked.Exchange(ref _inFallback, 0) == 1) Log.FallbackEnded(_logger);
            return decision;
        }

        if (Interlocked.Exchange(ref _inFallback, 1) == 0) Log.FallbackStarted(_logger);
        _fallback.Add(1, new KeyValuePair<string, object?>("policy", rule.Name));
        return _local.Acquire(rule, partition);
    }

    private static bool TryParse(RedisResult result, out RateLimitDecision decision)
    {
        decision = default;
        if (result.IsNull) return false;
        var values = (RedisResult[]?)result;
        if (values is not { Length: 4 }) return false;
        decision = new RateLimitDecision(
            (long)values[0] == 1,
            (int)Math.Max(0, (long)values[1]),
            TimeSpan.FromMilliseconds((long)values[3]),
            TimeSpan.FromMilliseconds((long)values[2]),
            Local: false);
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
