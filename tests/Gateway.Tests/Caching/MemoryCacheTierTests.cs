using Gateway.Caching;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Caching;

/// <summary>
/// The response cache's in-process tier at its bounds: a full tier refuses new entries cheaply (one sweep for expired
/// entries per <see cref="MemoryCacheTier.SweepInterval"/>, not one per store), makes room once entries expire, and
/// keeps its count exact through replacements, removals and tag evictions.
/// </summary>
public sealed class MemoryCacheTierTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-11-30T12:00:00Z"));

    private static byte[] Body(int i) => BitConverter.GetBytes(i);

    [Fact]
    public void FullTier_RefusesNewEntries_WithOneSweepPerInterval_NotOnePerStore()
    {
        var tier = new MemoryCacheTier(_time, maxEntries: 100, maxBytes: long.MaxValue);
        var expires = _time.GetUtcNow().AddSeconds(30);
        for (int i = 0; i < 100; i++) tier.Set($"k{i}", Body(i), ["user:a"], expires);
        int sweepsWhenFull = tier.Sweeps;

        for (int i = 100; i < 1_100; i++) tier.Set($"k{i}", Body(i), ["user:a"], expires);

        Assert.Equal(100, tier.Count);
        Assert.Null(tier.Get("k100"));
        Assert.NotNull(tier.Get("k0"));
        // The old tier visited all 100 live entries on each of the 1,000 refused stores.
        Assert.Equal(sweepsWhenFull + 1, tier.Sweeps);

        _time.Advance(TimeSpan.FromSeconds(2));   // still nothing expired: one more (useless) sweep, then quiet again
        for (int i = 1_100; i < 1_200; i++) tier.Set($"k{i}", Body(i), ["user:a"], expires);
        Assert.Equal(sweepsWhenFull + 2, tier.Sweeps);
    }

    /// <summary>A clock whose wall time and monotonic time the test sets apart, as an NTP step does.</summary>
    private sealed class SteppedClock : TimeProvider
    {
        public DateTimeOffset Wall = DateTimeOffset.Parse("2026-11-30T12:00:00Z");
        public long Ticks = 1_000_000;
        public override DateTimeOffset GetUtcNow() => Wall;
        public override long GetTimestamp() => Ticks;
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
    }

    [Fact]
    public void AWallClockSteppedBack_DoesNotKeepAnEntryPastItsLifetime()
    {
        var clock = new SteppedClock();
        var tier = new MemoryCacheTier(clock, maxEntries: 2, maxBytes: long.MaxValue);
        tier.Set("me", Body(1), ["user:a"], clock.Wall.AddSeconds(30));
        tier.Set("other", Body(2), ["user:b"], clock.Wall.AddSeconds(30));

        // The wall clock is stepped back an hour: by the wall clock alone both entries would live another hour.
        clock.Wall = clock.Wall.AddHours(-1);
        clock.Ticks += TimeSpan.FromSeconds(29).Ticks;
        Assert.Equal(Body(1), tier.Get("me"));
        clock.Ticks += TimeSpan.FromSeconds(1).Ticks;
        Assert.Null(tier.Get("me"));
        // A full tier's sweep counts the monotonic lifetime too: the other entry, never read again, makes room.
        tier.Set("fresh", Body(3), [], clock.Wall.AddSeconds(30));
        Assert.Equal(2, tier.Count);
        tier.Set("fresher", Body(4), [], clock.Wall.AddSeconds(30));
        Assert.Equal(Body(4), tier.Get("fresher"));
        Assert.Equal(Body(3), tier.Get("fresh"));
        Assert.Equal(2, tier.Count);
    }

    [Fact]
    public void FullTier_MakesRoom_OnceItsEntriesHaveExpired()
    {
        var tier = new MemoryCacheTier(_time, maxEntries: 10, maxBytes: long.MaxValue);
        for (int i = 0; i < 10; i++) tier.Set($"old{i}", Body(i), [], _time.GetUtcNow().AddSeconds(5));
        tier.Set("refused", Body(0), [], _time.GetUtcNow().AddSeconds(60));
        Assert.Null(tier.Get("refused"));

        _time.Advance(TimeSpan.FromSeconds(6));
        tier.Set("fresh", Body(1), [], _time.GetUtcNow().AddSeconds(60));

        Assert.Equal(Body(1), tier.Get("fresh"));
        Assert.Equal(1, tier.Count);
    }

    [Fact]
    public void Count_StaysExact_ThroughReplacementsRemovalsAndTagEvictions()
    {
        var tier = new MemoryCacheTier(_time, maxEntries: 1_000, maxBytes: long.MaxValue);
        var expires = _time.GetUtcNow().AddSeconds(30);
        for (int i = 0; i < 50; i++) tier.Set($"a{i}", Body(i), ["user:a"], expires);
        for (int i = 0; i < 30; i++) tier.Set($"b{i}", Body(i), ["user:b"], expires);
        for (int i = 0; i < 50; i++) tier.Set($"a{i}", Body(i + 1), ["user:a"], expires);   // replaced, not added
        tier.Remove("b0");
        tier.Remove("b0");
        Assert.Equal(79, tier.Count);

        tier.EvictTag("user:a");

        Assert.Equal(29, tier.Count);
        Assert.Null(tier.Get("a1"));
        Assert.NotNull(tier.Get("b1"));
    }

    [Fact]
    public void ConcurrentStoresAndEvictions_LeaveTheCountEqualToTheEntries()
    {
        var tier = new MemoryCacheTier(_time, maxEntries: 100_000, maxBytes: long.MaxValue);
        var expires = _time.GetUtcNow().AddSeconds(30);
        Parallel.For(0, 8, t =>
        {
            for (int i = 0; i < 2_000; i++)
            {
                tier.Set($"k{i % 500}", Body(i), [$"user:{i % 7}"], expires);
                if (i % 3 == 0) tier.Remove($"k{(i * 7) % 500}");
                if (i % 101 == 0) tier.EvictTag($"user:{t % 7}");
            }
        });

        int live = Enumerable.Range(0, 500).Count(i => tier.Get($"k{i}") is not null);
        Assert.Equal(live, tier.Count);
    }

    [Fact]
    public void ATagLeavesTheIndex_WithItsLastEntry_HoweverTheEntryWent()
    {
        // Tags are per principal (user, session). Each one's set stayed in the index, empty, after its entries were
        // removed, expired or replaced: one set per user and session ever cached, for the life of the process.
        var tier = new MemoryCacheTier(_time, maxEntries: 100_000, maxBytes: long.MaxValue);
        var soon = _time.GetUtcNow().AddSeconds(5);
        for (int i = 0; i < 300; i++) tier.Set($"k{i}", Body(i), [$"user:{i}", $"session:{i}"], soon);
        Assert.Equal(600, tier.TagCount);

        for (int i = 0; i < 100; i++) tier.Remove($"k{i}");                                               // removed
        for (int i = 100; i < 200; i++) tier.Set($"k{i}", Body(i), ["shared"], soon.AddSeconds(60));   // replaced, other tags
        _time.Advance(TimeSpan.FromSeconds(10));
        for (int i = 200; i < 300; i++) Assert.Null(tier.Get($"k{i}"));                                 // expired
        Assert.Equal(1, tier.TagCount);

        tier.EvictTag("shared");
        Assert.Equal(0, tier.TagCount);
        Assert.Equal(0, tier.Count);
    }

    [Fact]
    public void AKeyStoredAgainWhileItsOldEntryIsRemoved_StaysUnderItsTag_SoEvictingTheTagRemovesIt()
    {
        var tier = new MemoryCacheTier(_time, maxEntries: 1_000_000, maxBytes: long.MaxValue);
        var expires = _time.GetUtcNow().AddSeconds(30);
        const int Rounds = 20_000;
        for (int round = 0; round < Rounds; round++) tier.Set($"k{round}", Body(round), [$"user:{round}"], expires);
        using var barrier = new Barrier(2);
        var remover = new Thread(() =>
        {
            for (int round = 0; round < Rounds; round++) { barrier.SignalAndWait(); tier.Remove($"k{round}"); }
        });
        remover.Start();
        for (int round = 0; round < Rounds; round++)
        {
            barrier.SignalAndWait();
            tier.Set($"k{round}", Body(round), [$"user:{round}"], expires);
        }
        remover.Join();

        for (int round = 0; round < Rounds; round++) tier.EvictTag($"user:{round}");
        Assert.Equal(0, tier.Count);
    }
}
