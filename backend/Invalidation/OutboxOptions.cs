using System.ComponentModel.DataAnnotations;

namespace Backend.Invalidation;

/// <summary>Delivery of the invalidation outbox to Redis. Section <c>Invalidation</c>.</summary>
internal sealed class OutboxOptions
{
    /// <summary>
    /// How long a request that revokes sessions or changes memberships waits for Redis to acknowledge the change before
    /// it answers 503 <c>revocation-pending</c> instead of claiming success. <value>The default is 2 seconds.</value>
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan ConfirmTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Pause between two delivery attempts, inline and in the background. <value>The default is 200 ms.</value></summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan RetryInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Entries delivered per background batch. <value>The default is 100.</value></summary>
    [Range(1, 10_000)] public int BatchSize { get; set; } = 100;
}
