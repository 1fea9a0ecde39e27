using Gateway.Contracts;
using Gateway.Sessions;
using Gateway.Trust;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Sessions;

public sealed class L1SessionCacheTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);

    private static L1SessionCache Cache(int maxEntries = 1000, TimeSpan? ttl = null) =>
        new(Options.Create(new SessionOptions { L1MaxEntries = maxEntries, L1Ttl = ttl ?? TimeSpan.FromSeconds(30) }));

    private static SessionPrincipal Principal(string userId, DateTimeOffset? idle = null) =>
        new(userId, Guid.NewGuid().ToString(), "a@example.com", [], Now.AddDays(7), idle ?? Now.AddMinutes(30));

    private static (TokenHash Hash, string Hex) NewHash()
    {
        string token = SessionToken.Create();
        return (TokenHash.Compute(token), SessionToken.Hash(token));
    }

    [Fact]
    public void TokenHash_MatchesTheContractHexAndRoundTrips()
    {
        var (hash, hex) = NewHash();
        Assert.Equal(hex, hash.ToHex());
        Assert.True(TokenHash.TryParseHex(hex, out var parsed));
        Assert.Equal(hash, parsed);
        Assert.False(TokenHash.TryParseHex("xyz", out _));
    }

    [Fact]
    public void Entry_ExpiresAtTheSoonerOfTtlAndSessionExpiry()
    {
        var cache = Cache(ttl: TimeSpan.FromMinutes(10));
        var (hash, hex) = NewHash();
        cache.SetPositive(hash, hex, Principal("u", idle: Now.AddMinutes(2)), Now);
        Assert.True(cache.TryGet(hash, Now.AddMinutes(1), out _));
        Assert.False(cache.TryGet(hash, Now.AddMinutes(2), out _));
    }

    /// <summary>A clock whose wall time and monotonic time the test sets apart, as an NTP step does.</summary>
    private sealed class SteppedClock : TimeProvider
    {
        public long Ticks;
        public override long GetTimestamp() => Ticks;
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AWallClockSteppedBack_DoesNotKeepAnEntryPastItsTtl(bool negative)
    {
        var clock = new SteppedClock { Ticks = 1_000_000 };
        var cache = new L1SessionCache(Options.Create(new SessionOptions { L1Ttl = TimeSpan.FromSeconds(30), NegativeTtl = TimeSpan.FromSeconds(5) }), clock);
        var (hash, hex) = NewHash();
        if (negative) cache.SetNegative(hash, hex, Now);
        else cache.SetPositive(hash, hex, Principal("u"), Now);
        var lifetime = negative ? TimeSpan.FromSeconds(5) : TimeSpan.FromSeconds(30);

        // The wall clock is stepped back an hour: by the wall clock alone the entry would live another hour.
        var stepped = Now.AddHours(-1);
        clock.Ticks += (lifetime - TimeSpan.FromSeconds(1)).Ticks;
        Assert.True(cache.TryGet(hash, stepped.Add(lifetime - TimeSpan.FromSeconds(1)), out _));
        clock.Ticks += TimeSpan.FromSeconds(1).Ticks;
        Assert.False(cache.TryGet(hash, stepped.Add(lifetime), out _));
    }

    [Fact]
    public void RemoveUser_EvictsEverySessionOfThatUserOnly()
    {
        var cache = Cache();
        var a1 = NewHash(); var a2 = NewHash(); var b = NewHash();
        cache.SetPositive(a1.Hash, a1.Hex, Principal("alice"), Now);
        cache.SetPositive(a2.Hash, a2.Hex, Principal("alice"), Now);
        cache.SetPositive(b.Hash, b.Hex, Principal("bob"), Now);
        Assert.Equal(2, cache.RemoveUser("alice"));
        Assert.False(cache.TryGet(a1.Hash, Now, out _));
        Assert.False(cache.TryGet(a2.Hash, Now, out _));
        Assert.True(cache.TryGet(b.Hash, Now, out _));
    }

    [Fact]
    public void AnAnswerOvertakenByAnInvalidationOfItsSessionOrUser_IsNotStored()
    {
        var cache = Cache();
        var session = NewHash(); var sameUser = NewHash(); var otherUser = NewHash();
        var since = cache.Generation;   // the lookups start here

        cache.Invalidate(session.Hash);    // a logout arrives while they run
        cache.InvalidateUser("alice");     // and a logout-all of alice

        Assert.False(cache.TrySetPositive(session.Hash, session.Hex, Principal("carol"), Now, since));
        Assert.False(cache.TryGet(session.Hash, Now, out _));
        Assert.False(cache.TrySetPositive(sameUser.Hash, sameUser.Hex, Principal("alice"), Now, since));
        Assert.False(cache.TryGet(sameUser.Hash, Now, out _));
        Assert.True(cache.TrySetPositive(otherUser.Hash, otherUser.Hex, Principal("bob"), Now, since));
        Assert.True(cache.TryGet(otherUser.Hash, Now, out _));

        // A lookup that starts after the invalidations stores its answer: the backend decided after them.
        Assert.True(cache.TrySetPositive(sameUser.Hash, sameUser.Hex, Principal("alice"), Now, cache.Generation));
        Assert.True(cache.TryGet(sameUser.Hash, Now, out _));
    }

    [Fact]
    public async Task StoresRacingInvalidations_NeverLeaveAnOvertakenEntry()
    {
        // Writers store answers of lookups begun before an invalidation of their session, while it is handled: whatever the
        // interleaving, the entry is either refused or evicted.
        for (int round = 0; round < 200; round++)
        {
            var cache = Cache();
            var (hash, hex) = NewHash();
            var since = cache.Generation;
            using var start = new Barrier(2);
            var store = Task.Run(() => { start.SignalAndWait(); cache.TrySetPositive(hash, hex, Principal("u"), Now, since); });
            var invalidate = Task.Run(() => { start.SignalAndWait(); cache.Invalidate(hash); });
            await Task.WhenAll(store, invalidate);
            Assert.False(cache.TryGet(hash, Now, out _), $"round {round}: an overtaken answer stayed in L1");
        }
    }

    [Fact]
    public void Cache_StaysWithinItsEntryBound()
    {
        var cache = Cache(maxEntries: 100);
        for (int i = 0; i < 1000; i++)
        {
            var (hash, hex) = NewHash();
            cache.SetPositive(hash, hex, Principal("u" + i), Now);
        }
        Assert.True(cache.Count <= 100, $"{cache.Count} entries");
        Assert.True(cache.ApproximateBytes > 0);
    }

    [Fact]
    public void NegativeEntry_HasNoPrincipal()
    {
        var cache = Cache();
        var (hash, hex) = NewHash();
        cache.SetNegative(hash, hex, Now);
        Assert.True(cache.TryGet(hash, Now, out var entry));
        Assert.Null(entry.Principal);
        Assert.False(cache.TryGet(hash, Now.AddSeconds(6), out _));
    }

    [Fact]
    public void Count_StaysExact_ThroughReplacementsRemovalsAndRacingWriters()
    {
        var cache = Cache(maxEntries: 100_000);
        var hashes = Enumerable.Range(0, 300).Select(_ => NewHash()).ToArray();
        Parallel.For(0, 8, t =>
        {
            for (int i = 0; i < 3_000; i++)
            {
                var (hash, hex) = hashes[(i * (t + 1)) % hashes.Length];
                if (i % 4 == 3) cache.Remove(hash);
                else if (i % 4 == 2) cache.SetNegative(hash, hex, Now);   // replaces a positive entry of the same hash
                else cache.SetPositive(hash, hex, Principal("u" + (i % 5)), Now);
            }
        });

        int live = hashes.Count(h => cache.TryGet(h.Hash, Now, out _));
        Assert.Equal(live, cache.Count);
        for (int u = 0; u < 5; u++) cache.RemoveUser("u" + u);
        foreach (var (hash, _) in hashes) cache.Remove(hash);
        Assert.Equal(0, cache.Count);
        Assert.Equal(0, cache.ApproximateBytes);
    }

    [Fact]
    public void ASessionStoredWhileAnotherOfItsUserLeaves_StaysIndexed_SoAUserInvalidationEvictsIt()
    {
        // The user index dropped a user's set once its last session left. A session of the same user stored at that
        // moment went into the set being dropped: no longer indexed, so a "user" invalidation (logout-all, a password or
        // membership change) did not evict it, and it was served until its L1 TTL. Two threads meet at a barrier each
        // round, one removing the user's only session, one storing another; then the user is evicted.
        var cache = Cache(maxEntries: 1_000_000);
        const int Rounds = 20_000;
        var hashes = new (TokenHash Hash, string Hex)[Rounds * 2];
        for (int i = 0; i < hashes.Length; i++) hashes[i] = NewHash();
        for (int round = 0; round < Rounds; round++) cache.SetPositive(hashes[2 * round].Hash, hashes[2 * round].Hex, Principal("user-" + round), Now);
        using var barrier = new Barrier(2);
        var remover = new Thread(() =>
        {
            for (int round = 0; round < Rounds; round++) { barrier.SignalAndWait(); cache.Remove(hashes[2 * round].Hash); }
        });
        remover.Start();
        for (int round = 0; round < Rounds; round++)
        {
            barrier.SignalAndWait();
            cache.SetPositive(hashes[2 * round + 1].Hash, hashes[2 * round + 1].Hex, Principal("user-" + round), Now);
        }
        remover.Join();

        int survivors = 0;
        for (int round = 0; round < Rounds; round++)
        {
            cache.RemoveUser("user-" + round);
            if (cache.TryGet(hashes[2 * round + 1].Hash, Now, out _)) survivors++;
        }
        Assert.Equal(0, survivors);
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void ASessionStoredAgainWhileItsOldEntryIsRemoved_StaysIndexed_SoAUserInvalidationEvictsIt()
    {
        // Remove took the entry out, then dropped its hash from the user's set. A request that stored the same session
        // again in between (its entry had just expired, and another request refreshed it) left the new entry in the
        // cache but out of the index: a "user" invalidation missed it, and it was served until its L1 TTL.
        var cache = Cache(maxEntries: 1_000_000);
        const int Rounds = 20_000;
        var hashes = new (TokenHash Hash, string Hex)[Rounds];
        for (int i = 0; i < hashes.Length; i++) hashes[i] = NewHash();
        for (int round = 0; round < Rounds; round++) cache.SetPositive(hashes[round].Hash, hashes[round].Hex, Principal("user-" + round), Now);
        using var barrier = new Barrier(2);
        var remover = new Thread(() =>
        {
            for (int round = 0; round < Rounds; round++) { barrier.SignalAndWait(); cache.Remove(hashes[round].Hash); }
        });
        remover.Start();
        for (int round = 0; round < Rounds; round++)
        {
            barrier.SignalAndWait();
            cache.SetPositive(hashes[round].Hash, hashes[round].Hex, Principal("user-" + round), Now);
        }
        remover.Join();

        int survivors = 0;
        for (int round = 0; round < Rounds; round++)
        {
            cache.RemoveUser("user-" + round);
            if (cache.TryGet(hashes[round].Hash, Now, out _)) survivors++;
        }
        Assert.Equal(0, survivors);
        Assert.Equal(0, cache.Count);
    }
}
