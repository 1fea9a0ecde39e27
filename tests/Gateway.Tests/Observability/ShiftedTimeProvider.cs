namespace Gateway.Tests.Observability;

/// <summary>
/// Real timestamps (so measured durations are real) with a wall clock the test can move forward: lets a test lay
/// traffic over minutes of history without waiting for them. Kept beside FakeTimeProvider for tests that run whole
/// gateways on it: their Redis time-outs, probes and publishers need timers that fire in real time, which a fake clock
/// only does on Advance.
/// </summary>
internal sealed class ShiftedTimeProvider : TimeProvider
{
    private long _offsetTicks;

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow().AddTicks(Interlocked.Read(ref _offsetTicks));

    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);
}
