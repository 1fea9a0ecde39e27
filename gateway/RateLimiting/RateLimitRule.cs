namespace Gateway.RateLimiting;

/// <summary>Counting algorithm of a rate-limit policy.</summary>
internal enum RateLimitAlgorithm
{
    /// <summary>Two fixed windows weighted by overlap (O(1) per request, close to a true sliding window).</summary>
    SlidingWindow,
    /// <summary>Token bucket as GCRA: one theoretical-arrival-time per key; <see cref="RateLimitRule.Burst"/> is the bucket size.</summary>
    TokenBucket,
}

/// <summary>What a policy counts per.</summary>
internal enum RateLimitPartition
{
    /// <summary>Client IP (anonymous routes).</summary>
    Ip,
    /// <summary>Authenticated user id; the client IP when the request has no principal.</summary>
    User,
    /// <summary>Client IP and, separately, the target account (the login body's <c>email</c>); both must allow.</summary>
    IpAndAccount,
}

/// <summary>One rate-limit policy: <paramref name="Limit"/> requests per <paramref name="Window"/> per partition.</summary>
/// <param name="Burst">Token bucket size; defaults to <paramref name="Limit"/>. Ignored by the sliding window.</param>
internal sealed record RateLimitRule(string Name, RateLimitAlgorithm Algorithm, int Limit, TimeSpan Window, int? Burst, RateLimitPartition Partition)
{
    internal int WindowSeconds => (int)Math.Ceiling(Window.TotalSeconds);

    /// <summary>
    /// The <c>RateLimit-Policy</c> header value, formatted once per rule rather than per request. Its window is whole
    /// seconds: a shorter or fractional window is stated as the same rate over the next whole second(s) (0.1 s, 50 →
    /// <c>q=500;w=1</c>).
    /// </summary>
    internal string PolicyHeader => field ??=
        $"\"{Name}\";q={(long)Math.Floor(Limit * (WindowSeconds / Window.TotalSeconds) + 1e-9)};w={WindowSeconds}";

    /// <summary>Parses the config spellings <c>sliding-window</c>/<c>token-bucket</c> and <c>ip</c>/<c>user</c>/<c>ip+account</c>.</summary>
    /// <param name="windowSeconds">Fractions allowed (the route file accepts 0.001 to 86400): the Redis scripts count in
    /// milliseconds and microseconds. Until 2026-12-05 the route file's value was rounded up to whole seconds, so a
    /// 0.1 s window enforced a limit ten times stricter than the one configured and shown.</param>
    public static RateLimitRule FromConfig(string name, string algorithm, int limit, double windowSeconds, int? burst, string partition) => new(
        name,
        algorithm.ToLowerInvariant() switch
        {
            "sliding-window" => RateLimitAlgorithm.SlidingWindow,
            "token-bucket" => RateLimitAlgorithm.TokenBucket,
            _ => throw new ArgumentException($"Rate-limit policy '{name}' has unknown algorithm '{algorithm}'. Use 'sliding-window' or 'token-bucket'.", nameof(algorithm)),
        },
        limit,
        // To the millisecond, the Redis scripts' unit (the route file's smallest window is 0.001 s).
        TimeSpan.FromMilliseconds(Math.Max(1, Math.Round(windowSeconds * 1000))),
        burst,
        partition.ToLowerInvariant() switch
        {
            "ip" => RateLimitPartition.Ip,
            "user" => RateLimitPartition.User,
            "ip+account" => RateLimitPartition.IpAndAccount,
            _ => throw new ArgumentException($"Rate-limit policy '{name}' has unknown partition '{partition}'. Use 'ip', 'user' or 'ip+account'.", nameof(partition)),
        });
}

/// <summary>The outcome of one counter check.</summary>
/// <param name="ResetAfter">Time until the quota is fully (sliding window: the current window) reset.</param>
/// <param name="RetryAfter">When rejected, the time until a request would be allowed.</param>
/// <param name="Local">True when decided by the local fallback because Redis was unavailable.</param>
internal readonly record struct RateLimitDecision(bool Allowed, int Remaining, TimeSpan ResetAfter, TimeSpan RetryAfter, bool Local);
