using System.Text.Json;
using Gateway.Redis;
using Gateway.Pipeline;

namespace Gateway.Observability;

/// <summary>Redis availability and the invalidation subscription.</summary>
internal sealed class RedisStatusContributor(IRedisClient redis) : IStatusContributor
{
    public string Name => "redis";

    public void WriteStatus(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        // Without a whole subscription a revocation reaches this instance's L1 only by its TTL: a security promise degraded,
        // which a check keyed on "healthy" must see (it said true while only "available" was).
        writer.WriteBoolean("healthy", redis.RevocationsCanArrive);
        writer.WriteBoolean("available", redis.IsAvailable);
        writer.WriteBoolean("subscriptionConnected", redis.IsSubscriptionConnected);
        writer.WriteEndObject();
    }
}

/// <summary>The Redis client's own breaker as a breaker state: open while Redis is known to be down.</summary>
internal sealed class RedisBreakerStateSource(IRedisClient redis) : IBreakerStateSource
{
    public IReadOnlyList<BreakerStateInfo> GetBreakerStates() =>
        [new BreakerStateInfo("redis", redis.IsAvailable ? BreakerState.Closed : BreakerState.Open)];
}

internal sealed class BreakerStatusContributor(IEnumerable<IBreakerStateSource> sources) : IStatusContributor
{
    public string Name => "breakers";

    public void WriteStatus(Utf8JsonWriter writer)
    {
        bool anyOpen = false;
        writer.WriteStartObject();
        writer.WriteStartArray("states");
        foreach (var source in sources)
        {
            foreach (var breaker in source.GetBreakerStates())
            {
                anyOpen |= breaker.State != BreakerState.Closed;
                writer.WriteStartObject();
                writer.WriteString("name", breaker.Name);
                writer.WriteString("state", breaker.State switch { BreakerState.Open => "open", BreakerState.HalfOpen => "half-open", _ => "closed" });
                writer.WriteEndObject();
            }
        }
        writer.WriteEndArray();
        writer.WriteBoolean("anyOpen", anyOpen);
        writer.WriteBoolean("healthy", !anyOpen);
        writer.WriteEndObject();
    }
}

internal sealed class ConfigStatusContributor(IConfigStatusSource source) : IStatusContributor
{
    public string Name => "config";

    public void WriteStatus(Utf8JsonWriter writer)
    {
        var status = source.GetConfigStatus();
        writer.WriteStartObject();
        writer.WriteBoolean("healthy", status.LastReloadSucceeded);
        writer.WriteString("path", status.Path);
        writer.WriteString("version", status.Version);
        writer.WriteString("attemptedVersion", status.AttemptedVersion);
        if (status.LastReloadAt is { } at) writer.WriteString("lastReloadAt", at);
        else writer.WriteNull("lastReloadAt");
        writer.WriteString("lastReloadResult", status.LastReloadSucceeded ? "succeeded" : "failed");
        writer.WriteStringArray("errors", status.Errors);
        if (status.LastRejected is { } rejected)
        {
            writer.WriteStartObject("lastRejected");
            writer.WriteString("version", rejected.Version);
            writer.WriteString("at", rejected.At);
            writer.WriteStringArray("errors", rejected.Errors);
            writer.WriteEndObject();
        }
        else writer.WriteNull("lastRejected");
        WriteChange(writer, "lastChange", status.LastChange);
        WriteChange(writer, "lastWeakening", status.LastWeakening);
        writer.WriteEndObject();
    }

    private static void WriteChange(Utf8JsonWriter writer, string name, ConfigChangeSnapshot? change)
    {
        if (change is null) { writer.WriteNull(name); return; }
        writer.WriteStartObject(name);
        writer.WriteString("at", change.At);
        writer.WriteString("fromVersion", change.FromVersion);
        writer.WriteString("toVersion", change.ToVersion);
        writer.WriteNumber("changes", change.Changes);
        writer.WriteBoolean("weaker", change.Weakened.Count > 0);
        writer.WriteString("note", change.Note);
        writer.WriteStartArray("weakened");
        foreach (var w in change.Weakened)
        {
            writer.WriteStartObject();
            writer.WriteString("summary", w.Summary);
            writer.WriteString("oldRoute", w.OldRoute);
            writer.WriteString("newRoute", w.NewRoute);
            writer.WriteString("oldAuth", w.OldAuth);
            writer.WriteString("newAuth", w.NewAuth);
            writer.WriteStringArray("requests", w.Requests);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}

internal sealed class BackendStatusContributor(IBackendHealthSource source) : IStatusContributor
{
    public string Name => "backend";

    public void WriteStatus(Utf8JsonWriter writer)
    {
        var health = source.GetBackendHealth();
        writer.WriteStartObject();
        writer.WriteBoolean("healthy", health.Healthy);
        if (health.CheckedAt is { } at) writer.WriteString("checkedAt", at);
        else writer.WriteNull("checkedAt");
        writer.WriteString("detail", health.Detail);
        writer.WriteEndObject();
    }
}
