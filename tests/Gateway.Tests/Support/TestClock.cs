namespace Gateway.Tests.Support;

/// <summary>Real time plus an offset the test moves forward. Timers stay real, so time-boxes still fire.</summary>
public sealed class TestClock : TimeProvider
{
    private long _offsetTicks;
    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);
    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));
}
