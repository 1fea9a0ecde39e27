using System.Text.Json;
using Gateway.Redis;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Gateway.Observability.Fleet;

/// <summary>
/// Every <see cref="FleetOptions.PublishInterval"/>, writes this instance's <see cref="FleetSummary"/> to Redis with a
/// TTL of three intervals and stamps it in the fleet index. Redis down: the write is skipped (the client answers
/// at once), and the fleet view of the others shows this instance stale, then gone. Does nothing without an
/// <see cref="IRedisClient"/> or when <see cref="FleetOptions.Enabled"/> is false.
/// </summary>
internal sealed partial class FleetPublisher(RollingStats stats, IRedisClient? redis, FleetIdentity identity, IOptions<FleetOptions> options,
    TimeProvider time, ILogger<FleetPublisher> logger) : BackgroundService
{
    // SET the summary with its TTL, stamp the index, drop members silent past the retention, and let the index expire
    // too if the whole fleet stops.
    private const string Script = """
        redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
        redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[5])
        redis.call('PEXPIRE', KEYS[1], ARGV[6])
        return 1
        """;

    private readonly TimeSpan _interval = options.Value.PublishInterval;
    private bool _lastFailed;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Without Redis (or switched off) there is nothing to share; the fleet view says so.
        if (redis is null || !options.Value.Enabled) return;
        using var timer = new PeriodicTimer(_interval, time);
        try
        {
            do
            {
                await PublishOnceAsync().ConfigureAwait(false);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Publishes the current summary once; false when Redis did not take it.</summary>
    public async Task<bool> PublishOnceAsync()
    {
        if (redis is null) return false;
        var now = time.GetUtcNow();
        var summary = FleetSummaryBuilder.Build(stats, identity.InstanceId, now);
        string json = JsonSerializer.Serialize(summary, FleetJsonContext.Default.FleetSummary);
        long nowMs = now.ToUnixTimeMilliseconds();
        var reply = await redis.EvaluateAsync(Script, [FleetKeys.Index, FleetKeys.Summary(identity.InstanceId)],
        [
            json, (long)(_interval.TotalMilliseconds * 3), nowMs, identity.InstanceId,
            nowMs - (long)FleetKeys.IndexRetention.TotalMilliseconds, (long)FleetKeys.IndexRetention.TotalMilliseconds,
        ]).ConfigureAwait(false);
        // Log the change only (failed, recovered), never every interval: the Redis client already logs the outage.
        if (!reply.Ok && !_lastFailed) Log.PublishFailed(logger, identity.InstanceId);
        _lastFailed = !reply.Ok;
        return reply.Ok;
    }

    private static partial class Log
    {
        [LoggerMessage(5001, LogLevel.Warning, "Fleet statistics of {InstanceId} not published: Redis unavailable. Other instances will show it stale.", EventName = "FleetPublishFailed")]
        public static partial void PublishFailed(ILogger logger, string instanceId);
    }
}
