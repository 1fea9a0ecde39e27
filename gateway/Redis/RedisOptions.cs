using System.ComponentModel.DataAnnotations;

namespace Gateway.Redis;

/// <summary>Redis connection and fault handling. Section <c>Redis</c>.</summary>
internal sealed class RedisOptions
{
    /// <summary>StackExchange.Redis configuration string. Required. Keep <c>abortConnect=false</c> so the gateway starts without Redis.</summary>
    [Required] public string Configuration { get; set; } = "";

    /// <summary>Time-box of every Redis call. <value>The default is 250 ms.</value></summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:00:10")]
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How often a Redis known to be down is probed for recovery. <value>The default is 1 second.</value></summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromSeconds(1);
}
