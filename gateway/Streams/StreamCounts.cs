namespace Gateway.Streams;

/// <summary>
/// The open-stream counts a stream takes a place in: its user's (<c>user:</c> id; null for an anonymous stream) and its
/// address's (<c>ip:</c> address or IPv6 /64). Both null for a stream that is not counted (a gRPC call).
/// </summary>
internal readonly record struct StreamCounts(string? User, string? Address)
{
    public static readonly StreamCounts None = default;
}
