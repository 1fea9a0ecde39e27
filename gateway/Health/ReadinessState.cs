using System.Text;

namespace Gateway.Health;

/// <summary>The latest readiness verdict, with its response body pre-encoded so /ready does no work per request.</summary>
internal sealed class ReadinessState
{
    public static readonly ReadinessState Starting = new(redisReady: false, backendReady: false, DateTimeOffset.MinValue);

    public ReadinessState(bool redisReady, bool backendReady, DateTimeOffset checkedAt)
    {
        RedisReady = redisReady;
        BackendReady = backendReady;
        CheckedAt = checkedAt;
        var notReady = new List<string>(2);
        if (!redisReady) notReady.Add("\"redis\"");
        if (!backendReady) notReady.Add("\"backend\"");
        string status = IsReady ? "ready" : "not-ready";
        string at = checkedAt == DateTimeOffset.MinValue ? "null" : $"\"{checkedAt:O}\"";
        Body = Encoding.UTF8.GetBytes(
            $"{{\"status\":\"{status}\",\"redis\":\"{(redisReady ? "up" : "down")}\",\"backend\":\"{(backendReady ? "up" : "down")}\",\"notReady\":[{string.Join(',', notReady)}],\"checkedAt\":{at}}}");
    }

    public bool RedisReady { get; }
    public bool BackendReady { get; }
    public DateTimeOffset CheckedAt { get; }
    public bool IsReady => RedisReady && BackendReady;
    public byte[] Body { get; }
}
