using Gateway.Contracts;
using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Gateway.Sessions;

/// <summary>
/// The in-process session cache: bounded in entries and approximate bytes, TTL never beyond the session's expiry,
/// negative entries for unknown tokens, and a user index so "all sessions of a user" can be evicted. The entry count is
/// kept beside the dictionary: <c>ConcurrentDictionary.Count</c> takes every one of its locks, and it was read on every
/// store and on every step of a trim.
/// <para>An entry's time in L1 is measured twice: against the wall clock (the session's own expiry is a wall-clock time
/// the backend set) and against the monotonic clock (<see cref="Entry.Deadline"/>). A wall clock stepped back (an NTP
/// step, a VM resumed from a snapshot) would otherwise keep every entry for as long as the step, and
/// <see cref="SessionOptions.L1Ttl"/> is the bound on how long a revocation whose message was lost stays unseen.</para>
/// </summary>
internal sealed class L1SessionCache(IOptions<SessionOptions> options, TimeProvider? time = null)
{
    private readonly SessionOptions _options = options.Value;
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    // Longer than any lookup runs (introspection is time-boxed; Redis calls fail within a second or two).
    private readonly RecentInvalidations _invalidations = new(options.Value.IntrospectionTimeout + TimeSpan.FromSeconds(30));
    private readonly ConcurrentDictionary<TokenHash, Entry> _entries = new();
    private readonly Pipeline.GroupIndex<string, TokenHash> _byUser = new(StringComparer.Ordinal);
    private long _bytes;
    private int _count;
    private int _trimming;

    /// <summary>One cached verdict. <see cref="Principal"/> is null for a negative entry.</summary>
    /// <param name="Expiry">Wall clock: the sooner of the entry's lifetime and the session's expiry.</param>
    /// <param name="Deadline">The same lifetime on the monotonic clock (<see cref="TimeProvider.GetTimestamp"/>).</param>
    public sealed record Entry(SessionPrincipal? Principal, string HashHex, DateTimeOffset Expiry, long Deadline, long Bytes);

    public int Count => Volatile.Read(ref _count);
    public long ApproximateBytes => Interlocked.Read(ref _bytes);

    public bool TryGet(TokenHash hash, DateTimeOffset now, out Entry entry)
    {
        if (_entries.TryGetValue(hash, out entry!))
        {
            if (entry.Expiry > now && _time.GetTimestamp() < entry.Deadline) return true;
            Remove(hash);
        }
        entry = null!;
        return false;
    }

    public void SetPositive(TokenHash hash, string hashHex, SessionPrincipal principal, DateTimeOffset now)
    {
        var until = now + _options.L1Ttl;
        if (principal.ValidUntil < until) until = principal.ValidUntil;
        if (until <= now) return;
        long bytes = 300 + 2L * (principal.Email.Length + principal.UserId.Length + principal.SessionId.Length) + 120L * principal.Orgs.Length;
        Add(hash, new Entry(principal, hashHex, until, DeadlineAfter(until - now), bytes), now);
        // After the store: a concurrent Remove of the same session keeps it indexed (GroupIndex.Remove).
        _byUser.Add(principal.UserId, hash);
    }

    /// <summary>Read before a lookup in Redis or the backend starts; pass it to <see cref="TrySetPositive"/> with the answer.</summary>
    public RecentInvalidations.Moment Generation => _invalidations.Current;

    /// <summary>
    /// Stores a principal that a lookup begun at <paramref name="since"/> returned, unless an invalidation of the session
    /// or its user arrived since: then the answer may predate a logout or a membership change, and nothing is stored.
    /// Checked again after storing, so an invalidation racing the store either is seen here or evicts the entry.
    /// </summary>
    public bool TrySetPositive(TokenHash hash, string hashHex, SessionPrincipal principal, DateTimeOffset now, RecentInvalidations.Moment since)
    {
        if (_invalidations.Overtaken(hash, principal.UserId, since)) return false;
        SetPositive(hash, hashHex, principal, now);
        if (!_invalidations.Overtaken(hash, principal.UserId, since)) return true;
        Remove(hash);
        return false;
    }

    /// <summary>True when the session or its user was invalidated after <paramref name="since"/>.</summary>
    public bool Overtaken(TokenHash hash, string userId, RecentInvalidations.Moment since) => _invalidations.Overtaken(hash, userId, since);

    /// <summary>An invalidation of one session (the subscriber's): marked first, then evicted.</summary>
    public bool Invalidate(TokenHash hash)
    {
        _invalidations.Session(hash);
        return Remove(hash);
    }

    /// <summary>An invalidation of every session of a user (the subscriber's): marked first, then evicted.</summary>
    public int InvalidateUser(string userId)
    {
        _invalidations.User(userId);
        return RemoveUser(userId);
    }

    /// <summary>
    /// Invalidates every cached session (the subscription lost messages, so any of them may have been revoked unseen):
    /// marked first, so no lookup under way stores its answer, then evicted. Returns how many were evicted.
    /// </summary>
    public int InvalidateAll()
    {
        _invalidations.Everything();
        int removed = 0;
        foreach (var (hash, _) in _entries) if (Remove(hash)) removed++;
        return removed;
    }

    public void SetNegative(TokenHash hash, string hashHex, DateTimeOffset now)
    {
        if (_options.NegativeTtl <= TimeSpan.Zero) return;
        Add(hash, new Entry(null, hashHex, now + _options.NegativeTtl, DeadlineAfter(_options.NegativeTtl), 200), now);
    }

    private long DeadlineAfter(TimeSpan lifetime) => _time.GetTimestamp() + (long)(lifetime.TotalSeconds * _time.TimestampFrequency);

    public bool Remove(TokenHash hash)
    {
        if (!_entries.TryRemove(hash, out var old)) return false;
        Interlocked.Decrement(ref _count);
        Interlocked.Add(ref _bytes, -old.Bytes);
        // Stored again since the entry came out (another request refreshed the session): the new entry keeps its place,
        // or a "user" invalidation would miss it.
        if (old.Principal is { } principal)
            _byUser.Remove(principal.UserId, hash, static s => s.Entries.TryGetValue(s.Hash, out var stored) && stored.Principal?.UserId == s.UserId,
                (Entries: _entries, Hash: hash, principal.UserId));
        return true;
    }

    /// <summary>Evicts every cached session of <paramref name="userId"/>; returns how many.</summary>
    public int RemoveUser(string userId)
    {
        int removed = 0;
        foreach (var hash in _byUser.RemoveGroup(userId)) if (Remove(hash)) removed++;
        return removed;
    }

    private void Add(TokenHash hash, Entry entry, DateTimeOffset now)
    {
        if (Count >= _options.L1MaxEntries || Interlocked.Read(ref _bytes) >= _options.L1MaxBytes) Trim(now);
        while (true)
        {
            if (_entries.TryAdd(hash, entry))
            {
                Interlocked.Increment(ref _count);
                Interlocked.Add(ref _bytes, entry.Bytes);
                return;
            }
            if (_entries.TryGetValue(hash, out var old) && _entries.TryUpdate(hash, entry, old))
            {
                Interlocked.Add(ref _bytes, entry.Bytes - old.Bytes);
                return;
            }
        }
    }

    private void Trim(DateTimeOffset now)
    {
        if (Interlocked.Exchange(ref _trimming, 1) == 1) return;
        try
        {
            long timestamp = _time.GetTimestamp();
            foreach (var (hash, e) in _entries) if (e.Expiry <= now || e.Deadline <= timestamp) Remove(hash);
            // Still full: drop an arbitrary tenth. Dictionary order is effectively random, and every entry is a
            // short-lived cache of L2/backend state, so losing one only costs a lookup.
            int target = (int)(_options.L1MaxEntries * 0.9);
            long targetBytes = (long)(_options.L1MaxBytes * 0.9);
            foreach (var (hash, _) in _entries)
            {
                if (Count <= target && Interlocked.Read(ref _bytes) <= targetBytes) break;
                Remove(hash);
            }
        }
        finally { Volatile.Write(ref _trimming, 0); }
    }
}
