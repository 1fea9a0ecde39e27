using Gateway.Observability;

namespace Gateway.Tests.Observability;

/// <summary>The throttle behind the gateway's per-request failure lines (ProxyStage): N per window per key, then a count.</summary>
public sealed class LogThrottleTests
{
    [Fact]
    public void AllowsNPerWindow_ThenSuppresses_AndTheNextLineAllowedCarriesTheSuppressedCountAndSpan()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var throttle = new LogThrottle<string>(time, perWindow: 3, TimeSpan.FromSeconds(60));

        for (int i = 0; i < 3; i++)
        {
            Assert.True(throttle.TryAcquire("RequestBodyClient", out var none));
            Assert.Equal(0, none.Count);
        }
        time.Advance(TimeSpan.FromSeconds(5));
        for (int i = 0; i < 47; i++) Assert.False(throttle.TryAcquire("RequestBodyClient", out _));   // 50 in all
        time.Advance(TimeSpan.FromSeconds(20));
        Assert.False(throttle.TryAcquire("RequestBodyClient", out _));   // 48 suppressed, the last 20 s after the first

        time.Advance(TimeSpan.FromSeconds(35));   // 60 s after the window opened: a new one
        Assert.True(throttle.TryAcquire("RequestBodyClient", out var summary));
        Assert.Equal(48, summary.Count);
        Assert.Equal(TimeSpan.FromSeconds(55), summary.Over);   // from the first suppressed to this line

        // The summary is given once: the next line allowed says nothing was dropped since.
        Assert.True(throttle.TryAcquire("RequestBodyClient", out var after));
        Assert.Equal(LogThrottle<string>.Suppressed.None, after);
    }

    [Fact]
    public void KeysAreIndependent_AndZeroPerWindowAllowsNothing()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var throttle = new LogThrottle<string>(time, perWindow: 1, TimeSpan.FromSeconds(10));
        Assert.True(throttle.TryAcquire("a", out _));
        Assert.False(throttle.TryAcquire("a", out _));
        Assert.True(throttle.TryAcquire("b", out _));   // another kind is not hidden by a's flood

        var off = new LogThrottle<string>(time, perWindow: 0, TimeSpan.FromSeconds(10));
        Assert.False(off.TryAcquire("a", out _));
    }
}
