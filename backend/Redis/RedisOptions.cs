using System.ComponentModel.DataAnnotations;

namespace Backend.Redis;

/// <summary>Redis connection. Section <c>Redis</c>.</summary>
internal sealed class RedisOptions
{
    /// <summary>StackExchange.Redis configuration string. Keep <c>abortConnect=false</c> so the backend starts without Redis.</summary>
    [Required] public string Configuration { get; set; } = "";

    /// <summary>Time-box of every Redis call; Redis is best effort here. <value>The default is 250 ms.</value></summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:00:10")]
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromMilliseconds(250);
}
