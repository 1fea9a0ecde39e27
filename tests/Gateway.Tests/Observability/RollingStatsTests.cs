using Gateway.Observability;

namespace Gateway.Tests.Observability;

public sealed class RollingStatsTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Percentiles_AreWithinBucketPrecisionOfNearestRank()
    {
        var stats = new RollingStats(_time);
        // 1..100 ms: p50 = 50, p95 = 95, p99 = 99 by nearest rank.
        for (int ms = 1; ms <= 100; ms++) stats.Record(new RequestSample("standard", ms, 200, false, null, null));

        var s = stats.Snapshot("standard", 60);

        Assert.Equal(100, s.Count);
        AssertClose(50, s.P50Ms);
        AssertClose(95, s.P95Ms);
        AssertClose(99, s.P99Ms);
    }

    [Fact]
    public void Windows_RollOver_OldSecondsLeaveTheOneMinuteWindowButStayInFifteen()
    {
        var stats = new RollingStats(_time);
        for (int i = 0; i < 10; i++) stats.Record(new RequestSample("ultra-fast", 1, 200, false, null, null));
        _time.Advance(TimeSpan.FromSeconds(61));
        for (int i = 0; i < 5; i++) stats.Record(new RequestSample("ultra-fast", 2, 200, false, null, null));

        Assert.Equal(5, stats.Snapshot("ultra-fast", 60).Count);
        Assert.Equal(15, stats.Snapshot("ultra-fast", 900).Count);

        _time.Advance(TimeSpan.FromSeconds(900));
        Assert.Equal(0, stats.Snapshot("ultra-fast", 900).Count);
    }

    [Fact]
    public void Snapshot_EndingInThePast_SeesOnlyItsSeconds()
    {
        var stats = new RollingStats(_time);
        stats.Record(new RequestSample("standard", 1, 200, false, null, null));
        _time.Advance(TimeSpan.FromSeconds(25));
        stats.Record(new RequestSample("standard", 1, 200, false, null, null));
        stats.Record(new RequestSample("standard", 1, 200, false, null, null));

        Assert.Equal(2, stats.Snapshot("standard", 10, endSecondsAgo: 0).Count);
        Assert.Equal(0, stats.Snapshot("standard", 10, endSecondsAgo: 10).Count);
        Assert.Equal(1, stats.Snapshot("standard", 10, endSecondsAgo: 20).Count);
    }

    [Fact]
    public void Slot_IsReusedAfterTheRingWrapsWithoutKeepingOldCounts()
    {
        var stats = new RollingStats(_time);
        stats.Record(new RequestSample("standard", 1, 200, false, null, null));
        _time.Advance(TimeSpan.FromSeconds(RollingStats.Slots));
        stats.Record(new RequestSample("standard", 1, 200, false, null, null));

        Assert.Equal(1, stats.Snapshot("standard", 900).Count);
    }

    [Fact]
    public void Compliance_ErrorRateAndCacheRatios_AreComputedFromCounts()
    {
        var stats = new RollingStats(_time);
        for (int i = 0; i < 8; i++) stats.Record(new RequestSample("critical-auth", 10, 200, false, true, "l1"));
        stats.Record(new RequestSample("critical-auth", 80, 503, true, false, "l2"));
        stats.Record(new RequestSample("critical-auth", 90, 200, true, null, "backend"));

        var s = stats.Snapshot("critical-auth", 60);

        Assert.Equal(80, s.BudgetCompliancePercent, 6);
        Assert.Equal(0.1, s.ErrorRate, 6);
        Assert.Equal(8.0 / 9, s.ResponseCacheHitRatio, 6);
        Assert.Equal(0.8, s.SessionRatio(s.SessionL1), 6);
        Assert.Equal(0.1, s.SessionRatio(s.SessionL2), 6);
        Assert.Equal(10.0 / 60, s.RequestsPerSecond, 6);
    }

    [Fact]
    public void EmptyWindow_IsFullyCompliantWithZeroPercentiles()
    {
        var s = new RollingStats(_time).Snapshot("standard", 60);
        Assert.Equal(0, s.Count);
        Assert.Equal(100, s.BudgetCompliancePercent);
        Assert.Equal(0, s.P99Ms);
    }

    private static void AssertClose(double expected, double actual) =>
        Assert.InRange(actual, expected / 1.15, expected * 1.15);
}
