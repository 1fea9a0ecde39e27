using System.Collections.Concurrent;

namespace Gateway.Sessions;

/// <summary>
/// Which sessions and users were invalidated since a given moment, so a lookup that was already running when an
/// invalidation arrived does not put its answer into L1: Redis or the backend may have answered before a logout (or a
/// membership change), and that answer may arrive after the logout's message was handled. Stored, it would have been
/// trusted until <see cref="SessionOptions.L1Ttl"/> with the subscription healthy.
/// <para>A moment is a generation: a counter each invalidation raises. Marks older than <c>window</c> (longer than any
/// lookup runs) are pruned at most once per window; a lookup that began before the newest pruned mark counts as
/// overtaken, which costs it a second lookup, never a stale entry.</para>
/// </summary>
internal sealed class RecentInvalidations(TimeSpan window)
{
    private readonly ConcurrentDictionary<TokenHash, Mark> _sessions = new();
    private readonly ConcurrentDictionary<string, Mark> _users = new(StringComparer.Ordinal);
    private readonly long _windowMs = (long)window.TotalMilliseconds;
    private long _generation;
    private long _prunedThrough;
    private long _lastPruneMs = Environment.TickCount64;
    private int _pruning;

    private readonly record struct Mark(long Generation, long AtMs);

    /// <summary>The current generation: read before a lookup starts, passed to <see cref="Overtaken"/> after it.</summary>
    public long Current => Volatile.Read(ref _generation);

    /// <summary>Marks one session as invalidated now. Call before evicting it, so a racing store sees the mark or is evicted.</summary>
    public void Session(TokenHash hash)
    {
        _sessions[hash] = Next();
        PruneWhenDue();
    }

    /// <summary>Marks every session of a user as invalidated now. Call before evicting them.</summary>
    public void User(string userId)
    {
        _users[userId] = Next();
        PruneWhenDue();
    }

    /// <summary>True when the session or its user was invalidated after generation <paramref name="since"/>.</summary>
    public bool Overtaken(TokenHash hash, string userId, long since) =>
        since < Volatile.Read(ref _prunedThrough)
        || (_sessions.TryGetValue(hash, out var session) && session.Generation > since)
        || (_users.TryGetValue(userId, out var user) && user.Generation > since);

    private Mark Next() => new(Interlocked.Increment(ref _generation), Environment.TickCount64);

    private void PruneWhenDue()
    {
        long now = Environment.TickCount64;
        if (now - Volatile.Read(ref _lastPruneMs) < _windowMs || Interlocked.Exchange(ref _pruning, 1) == 1) return;
        try
        {
            Volatile.Write(ref _lastPruneMs, now);
            long newestPruned = Math.Max(Prune(_sessions, now), Prune(_users, now));
            if (newestPruned > Volatile.Read(ref _prunedThrough)) Volatile.Write(ref _prunedThrough, newestPruned);
        }
        finally { Volatile.Write(ref _pruning, 0); }
    }

    /// <summary>Removes marks older than the window; returns the newest generation removed (0 for none).</summary>
    private long Prune<TKey>(ConcurrentDictionary<TKey, Mark> marks, long nowMs) where TKey : notnull
    {
        long newest = 0;
        foreach (var (key, mark) in marks)
        {
            if (nowMs - mark.AtMs < _windowMs) continue;
            if (marks.TryRemove(new KeyValuePair<TKey, Mark>(key, mark))) newest = Math.Max(newest, mark.Generation);
        }
        return newest;
    }
}
