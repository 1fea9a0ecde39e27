using Backend.Tests.Support;
using Backend.Users;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Backend.Tests.Users;

public sealed class LoginThrottleTests
{
    private static (LoginThrottle Throttle, FakeTime Time) Create(int perAccount = 3, int perIp = 5, int maxKeys = 100, int perAccountDevices = 25,
        int ipv6PrefixLength = 64)
    {
        var time = new FakeTime();
        var options = Options.Create(new LoginThrottleOptions
        {
            MaxFailuresPerAccount = perAccount, MaxFailuresPerIp = perIp, Window = TimeSpan.FromMinutes(10), MaxTrackedKeys = maxKeys,
            MaxDeviceFailuresPerAccount = perAccountDevices, Ipv6PrefixLength = ipv6PrefixLength,
        });
        return (new LoginThrottle(options, time, NullLogger<LoginThrottle>.Instance), time);
    }

    [Fact]
    public void AttemptsStillBeingVerified_CountAgainstTheBudget_UntilTheyEnd()
    {
        // Checked first and counted after the ~40 ms verification, concurrent attempts all passed a budget of three.
        var (throttle, _) = Create(perAccount: 3);
        var inFlight = new List<LoginThrottle.Attempt>();
        for (int i = 0; i < 3; i++)
        {
            inFlight.Add(throttle.BeginLogin("a@x.io", $"10.0.0.{i}", null, out var wait));
            Assert.Null(wait);
        }
        using (throttle.BeginLogin("a@x.io", "10.0.0.9", null, out var fourth)) Assert.Equal(TimeSpan.FromSeconds(1), fourth);

        // One ends without an outcome (the hashing bulkhead refused it): its place is free again.
        inFlight[0].Dispose();
        using (throttle.BeginLogin("a@x.io", "10.0.0.9", null, out var afterRelease)) Assert.Null(afterRelease);

        // Two end as failures: recorded before their reservations end, so the budget is never open in between.
        for (int i = 1; i < 3; i++) { throttle.RecordFailure("a@x.io", $"10.0.0.{i}"); inFlight[i].Dispose(); }
        using (throttle.BeginLogin("a@x.io", "10.0.0.9", null, out var stillOne)) Assert.Null(stillOne);
        throttle.RecordFailure("a@x.io", "10.0.0.9");
        using (throttle.BeginLogin("a@x.io", "10.0.0.9", null, out var spent)) Assert.Equal(TimeSpan.FromMinutes(10), spent);
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
    public void PerIp_AnIpv6ClientsFailuresCountForItsWholeSlash64()
    {
        // One client holds a /64 and can try from any of its 2^64 addresses: per address, the limit never binds.
        var (throttle, _) = Create(perAccount: 1000, perIp: 5);
        for (int i = 1; i <= 5; i++) throttle.RecordFailure($"victim{i}@x.io", $"2001:db8:1:2::{i:x}");
        Assert.NotNull(throttle.RetryAfter("another@x.io", "2001:db8:1:2:ffff:ffff:ffff:ffff"));
        Assert.Null(throttle.RetryAfter("another@x.io", "2001:db8:1:3::1"));   // the neighbouring /64 is someone else

        var (perAddress, _) = Create(perAccount: 1000, perIp: 5, ipv6PrefixLength: 128);
        for (int i = 1; i <= 5; i++) perAddress.RecordFailure($"victim{i}@x.io", $"2001:db8:1:2::{i:x}");
        Assert.Null(perAddress.RetryAfter("another@x.io", "2001:db8:1:2::6"));   // Ipv6PrefixLength 128: each address alone
    }

    [Fact]
    public void Device_IsCheckedInsteadOfTheAccount_ButItsFailuresCountForBoth()
    {
        var (throttle, _) = Create();
        for (int i = 0; i < 3; i++) throttle.RecordFailure("a@x.io", $"10.0.0.{i}");
        Assert.NotNull(throttle.RetryAfter("a@x.io", "10.0.1.1"));
        Assert.Null(throttle.RetryAfter("a@x.io", "10.0.1.1", deviceId: "dev1"));

        var (fresh, _) = Create();
        for (int i = 0; i < 3; i++) fresh.RecordFailure("b@x.io", $"10.0.0.{i}", deviceId: "dev2");
        Assert.NotNull(fresh.RetryAfter("b@x.io", "10.0.1.1", deviceId: "dev2"));
        Assert.NotNull(fresh.RetryAfter("b@x.io", "10.0.1.1"));                      // counted for the account too
        Assert.Null(fresh.RetryAfter("b@x.io", "10.0.1.1", deviceId: "dev3"));       // another device of the owner
    }

    [Fact]
    public void ManyDevicesOfOneAccount_ShareABoundedBudget_ThatStrangersWithoutATokenCannotSpend()
    {
        // Someone who once knew the password may have kept several tokens: together they buy a bounded number of guesses.
        var (throttle, _) = Create(perAccount: 3, perAccountDevices: 5);
        for (int i = 0; i < 20; i++) throttle.RecordFailure("a@x.io", null);   // strangers: the account's count only
        Assert.Null(throttle.RetryAfter("a@x.io", null, deviceId: "dev0"));
        for (int i = 0; i < 5; i++) throttle.RecordFailure("a@x.io", null, deviceId: $"dev{i}");
        Assert.NotNull(throttle.RetryAfter("a@x.io", null, deviceId: "dev9"));   // a sixth device finds the shared budget spent
        Assert.Null(throttle.RetryAfter("b@x.io", null, deviceId: "dev9"));      // per account
        throttle.RecordSuccess("a@x.io", deviceId: "dev1");                      // the owner's success does not refill it
        Assert.NotNull(throttle.RetryAfter("a@x.io", null, deviceId: "dev1"));
    }

    [Fact]
    public void DeviceSuccess_ClearsTheDevice_NotTheAccount()
    {
        var (throttle, _) = Create();
        for (int i = 0; i < 3; i++) throttle.RecordFailure("a@x.io", null);
        for (int i = 0; i < 3; i++) throttle.RecordFailure("a@x.io", null, deviceId: "dev1");
        throttle.RecordSuccess("a@x.io", deviceId: "dev1");
        Assert.Null(throttle.RetryAfter("a@x.io", null, deviceId: "dev1"));
        Assert.NotNull(throttle.RetryAfter("a@x.io", null));
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

    [Fact]
    public void FullTable_OfLiveWindows_IsSweptOncePerSecond_NotOncePerAttempt()
    {
        var (throttle, time) = Create(maxKeys: 100);
        for (int i = 0; i < 100; i++) throttle.RecordFailure($"u{i}@x.io", null);
        Assert.Equal(100, throttle.TrackedKeys);

        for (int i = 100; i < 1_100; i++) throttle.RecordFailure($"u{i}@x.io", null);   // a stuffing run over new accounts

        Assert.Equal(100, throttle.TrackedKeys);
        Assert.Equal(1, throttle.Sweeps);   // the old table swept all 100 live windows on each of the 1,000 attempts
        time.Advance(TimeSpan.FromSeconds(1));
        throttle.RecordFailure("next@x.io", null);
        Assert.Equal(2, throttle.Sweeps);
    }

    [Fact]
    public void TrackedKeys_StaysExact_ThroughSuccessesSweepsAndRacingFailures()
    {
        var (throttle, time) = Create(maxKeys: 1_000);
        Parallel.For(0, 8, t =>
        {
            for (int i = 0; i < 2_000; i++)
            {
                throttle.RecordFailure($"u{i % 700}@x.io", $"10.0.{t}.{i % 50}");
                if (i % 5 == 0) throttle.RecordSuccess($"u{(i * 3) % 700}@x.io");
                if (i == 1_000 && t == 0) time.Advance(TimeSpan.FromMinutes(11));   // windows end while others write
            }
        });

        Assert.Equal(throttle.EntriesInTable, throttle.TrackedKeys);
        Assert.InRange(throttle.TrackedKeys, 1, 1_000);
    }

    [Fact]
    public void PastAFullTable_NewAccountsAreStillCounted_InSharedOverflowCounters()
    {
        // A stuffing run over ~100,000 emails filled the table, and from then on attempts on accounts it did not know
        // were not counted at all: the per-account budget was off for them.
        var (throttle, _) = Create(perAccount: 3, maxKeys: 100);
        for (int i = 0; i < 100; i++) throttle.RecordFailure($"u{i}@x.io", null);
        Assert.Equal(100, throttle.TrackedKeys);

        for (int i = 0; i < 3; i++)
        {
            using var attempt = throttle.BeginLogin("victim@x.io", null, null, out var wait);
            Assert.Null(wait);
            throttle.RecordFailure("victim@x.io", null);
        }

        Assert.NotNull(throttle.RetryAfter("victim@x.io", null));
        Assert.Equal(100, throttle.TrackedKeys);   // memory stays bounded
        // Another account the table does not know shares a counter with the victim only by a 1-in-65,536 hash collision.
        Assert.NotSame(throttle.Overflow("a:victim@x.io"), throttle.Overflow("a:bystander@x.io"));
        Assert.Null(throttle.RetryAfter("bystander@x.io", null));
    }

    [Fact]
    public void AnAttemptTheAddressBudgetRefuses_LeavesNoAccountKeyBehind()
    {
        var (throttle, _) = Create(perIp: 2, maxKeys: 1_000);
        for (int i = 0; i < 2; i++) throttle.RecordFailure($"seed{i}@x.io", "10.9.9.9");
        int before = throttle.TrackedKeys;

        for (int i = 0; i < 50; i++) Assert.NotNull(throttle.RetryAfter($"new{i}@x.io", "10.9.9.9"));

        Assert.Equal(before, throttle.TrackedKeys);
    }
}
