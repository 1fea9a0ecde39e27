using Backend.Tests.Support;
using Backend.Users;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Backend.Tests.Users;

public sealed class LoginThrottleTests
{
    private static (LoginThrottle Throttle, FakeTime Time) Create(int perAccount = 3, int perIp = 5, int maxKeys = 100)
    {
        var time = new FakeTime();
        var options = Options.Create(new LoginThrottleOptions
        {
            MaxFailuresPerAccount = perAccount, MaxFailuresPerIp = perIp, Window = TimeSpan.FromMinutes(10), MaxTrackedKeys = maxKeys,
        });
        return (new LoginThrottle(options, time, NullLogger<LoginThrottle>.Instance), time);
    }

    [Fact]
    public void PerAccount_BlocksAfterLimitUntilWindowEnds()
    {
        var (throttle, time) = Create();
        for (int i = 0; i < 3; i++) { Assert.Null(throttle.RetryAfter("a@x.io", "10.0.0.1")); throttle.RecordFailure("a@x.io", "10.0.0.1"); }
        var wait = throttle.RetryAfter("a@x.io", "10.0.0.2");
        Assert.Equal(TimeSpan.FromMinutes(10), wait);
        time.Advance(TimeSpan.FromMinutes(10));
        Assert.Null(throttle.RetryAfter("a@x.io", "10.0.0.2"));
    }

    [Fact]
    public void PerIp_BlocksEveryAccountFromThatAddress()
    {
        var (throttle, _) = Create();
        for (int i = 0; i < 5; i++) throttle.RecordFailure($"user{i}@x.io", "10.0.0.9");
        Assert.NotNull(throttle.RetryAfter("fresh@x.io", "10.0.0.9"));
        Assert.Null(throttle.RetryAfter("fresh@x.io", "10.0.0.10"));
    }

    [Fact]
    public void Success_ResetsTheAccountCounter()
    {
        var (throttle, _) = Create();
        for (int i = 0; i < 2; i++) throttle.RecordFailure("a@x.io", null);
        throttle.RecordSuccess("a@x.io");
        for (int i = 0; i < 2; i++) throttle.RecordFailure("a@x.io", null);
        Assert.Null(throttle.RetryAfter("a@x.io", null));
    }

    [Fact]
    public void Memory_IsBoundedByMaxTrackedKeys()
    {
        var (throttle, time) = Create(maxKeys: 100);
        for (int i = 0; i < 1000; i++) throttle.RecordFailure($"u{i}@x.io", null);
        time.Advance(TimeSpan.FromMinutes(11));
        // Expired windows are swept to make room for new keys.
        for (int i = 0; i < 3; i++) throttle.RecordFailure("late@x.io", null);
        Assert.NotNull(throttle.RetryAfter("late@x.io", null));
    }
}
