namespace Backend.Redis;

/// <summary>Key and channel names of docs/contracts.md. The braces are Redis Cluster hash tags.</summary>
internal static class RedisKeys
{
    public const string InvalidationChannel = "gw:v1:invalidate";
    public static string Session(string tokenHash) => "gw:v1:session:{" + tokenHash + "}";
}
