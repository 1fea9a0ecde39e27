using System.ComponentModel.DataAnnotations;

namespace Gateway.Resilience;

/// <summary>
/// Circuit breaker, retry and timeout settings applied to every backend cluster. Section <c>Resilience</c>.
/// The defaults trip at low traffic: five calls in ten seconds of which half fail open the breaker.
/// </summary>
internal sealed class BackendResilienceOptions
{
    /// <summary>Failure ratio (0..1) in the sampling window that opens the breaker. <value>The default is 0.5.</value></summary>
    [Range(0.01, 1.0)] public double FailureRatio { get; set; } = 0.5;

    /// <summary>Calls needed in the sampling window before the ratio counts. <value>The default is 5.</value></summary>
    [Range(2, 10_000)] public int MinimumThroughput { get; set; } = 5;

    /// <summary>Window over which failures are counted. <value>The default is 10 seconds.</value></summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "00:10:00")]
    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long an open breaker answers 503 before letting one probe through. <value>The default is 15 seconds.</value></summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "00:10:00")]
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Timeout of one backend attempt when the request carries no class timeout. <value>The default is 10 seconds.</value></summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan DefaultTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Retries of an idempotent request after a connection failure; 0 disables retries. <value>The default is 2.</value></summary>
    [Range(0, 5)] public int MaxRetryAttempts { get; set; } = 2;

    /// <summary>Base delay of the jittered exponential backoff. <value>The default is 50 ms.</value></summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:10")]
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Retries allowed as a fraction of first attempts (the retry budget). <value>The default is 0.1 (10 % extra requests).</value></summary>
    [Range(0.0, 1.0)] public double RetryBudgetRatio { get; set; } = 0.1;

    /// <summary>Retries the budget holds at most, and starts with, so a quiet cluster can still retry. <value>The default is 10.</value></summary>
    [Range(0, 10_000)] public int RetryBudgetBurst { get; set; } = 10;
}
