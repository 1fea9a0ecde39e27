using System.Text.Json;
using Gateway.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Gateway.Observability.Fleet;

/// <summary>
/// Reads every instance's summary for <c>/gateway/stats?scope=fleet</c> and the dashboard. This instance is always
/// shown from its own live statistics; when Redis cannot be read the view is this instance only, flagged degraded,
/// never an error. Operator requests only, never the request path.
/// </summary>
internal sealed class FleetReader(RollingStats stats, IRedisClient? redis, FleetIdentity identity, IOptions<FleetOptions> options, TimeProvider time)
{
    // One round trip: the most recent members of the index with their stamps, and each one's summary (nil once expired).
    private const string Script = """
        local ids = redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1, 'WITHSCORES')
        local out = {}
        for i = 1, #ids, 2 do
          out[#out + 1] = ids[i]
          out[#out + 1] = ids[i + 1]
          out[#out + 1] = redis.call('GET', ARGV[2] .. ids[i])
        end
        return out
        """;

    public TimeSpan PublishInterval { get; } = options.Value.PublishInterval;

    /// <summary>An instance whose last report is older than this is stale (missed two publishes).</summary>
    public TimeSpan StaleAfter => PublishInterval * 2;

    public async Task<FleetView> ReadAsync()
    {
        var now = time.GetUtcNow();
        var self = new FleetInstance(identity.InstanceId, true, FleetInstanceState.Live, now, FleetSummaryBuilder.Build(stats, identity.InstanceId, now));
        var instances = new List<FleetInstance> { self };
        if (redis is null) return new FleetView(identity.InstanceId, false, "no Redis configured: showing this instance only", instances);
        if (!options.Value.Enabled)
            return new FleetView(identity.InstanceId, false, "fleet view off (Observability:Fleet:Enabled): showing this instance only", instances);
        var reply = await redis.EvaluateAsync(Script, [FleetKeys.Index], [FleetKeys.MaxInstances, FleetKeys.Summary("")]).ConfigureAwait(false);
        if (!reply.Ok || reply.Value is null || reply.Value.Resp3Type != ResultType.Array)
            return new FleetView(identity.InstanceId, false, "Redis unavailable: showing this instance only", instances);

        var items = (RedisResult[])reply.Value!;
        for (int i = 0; i + 2 < items.Length; i += 3)
        {
            string id = items[i].ToString();
            if (id == identity.InstanceId) continue;
            var reportedAt = DateTimeOffset.FromUnixTimeMilliseconds((long)double.Parse(items[i + 1].ToString(), System.Globalization.CultureInfo.InvariantCulture));
            FleetSummary? summary = items[i + 2].IsNull ? null : TryParse(items[i + 2].ToString());
            var state = summary is null ? FleetInstanceState.Gone : now - reportedAt > StaleAfter ? FleetInstanceState.Stale : FleetInstanceState.Live;
            instances.Add(new FleetInstance(id, false, state, reportedAt, summary));
        }
        instances.Sort(static (a, b) => string.CompareOrdinal(a.Id, b.Id));
        return new FleetView(identity.InstanceId, true, null, instances);
    }

    private static FleetSummary? TryParse(string json)
    {
        try
        {
            var summary = JsonSerializer.Deserialize(json, FleetJsonContext.Default.FleetSummary);
            // An instance of a newer wire version is listed without figures rather than misread.
            return summary is { Version: FleetSummaryBuilder.WireVersion, Windows: not null } ? summary : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

internal enum FleetInstanceState { Live, Stale, Gone }

/// <param name="Summary">Null when its key expired (gone) or could not be read.</param>
internal sealed record FleetInstance(string Id, bool Self, FleetInstanceState State, DateTimeOffset ReportedAt, FleetSummary? Summary);

/// <param name="FromRedis">False when the view is this instance only.</param>
/// <param name="Degraded">Why the view is this instance only; null when it is the whole fleet.</param>
internal sealed record FleetView(string SelfId, bool FromRedis, string? Degraded, List<FleetInstance> Instances);
