using Gateway.Pipeline;

namespace Gateway.Sessions;

/// <summary>
/// Which sessions and users were invalidated since a given moment, so a lookup that was already running when an
/// invalidation arrived does not put its answer into L1: Redis or the backend may have answered before a logout (or a
/// membership change), and that answer may arrive after the logout's message was handled. Stored, it would have been
/// trusted until <see cref="SessionOptions.L1Ttl"/> with the subscription healthy.
/// </summary>
internal sealed class RecentInvalidations(TimeSpan window)
{
    private readonly GenerationMarks<TokenHash> _sessions = new(window);
    private readonly GenerationMarks<string> _users = new(window, StringComparer.Ordinal);

    private long _everything;

    /// <summary>Read before a lookup starts, passed to <see cref="Overtaken"/> after it.</summary>
    public Moment Current => new(_sessions.Current, _users.Current, Interlocked.Read(ref _everything));

    /// <summary>Marks one session as invalidated now. Call before evicting it.</summary>
    public void Session(TokenHash hash) => _sessions.Mark(hash);

    /// <summary>Marks every session of a user as invalidated now. Call before evicting them.</summary>
    public void User(string userId) => _users.Mark(userId);

    /// <summary>Marks every session as invalidated now (messages were lost). Call before evicting them.</summary>
    public void Everything() => Interlocked.Increment(ref _everything);

    /// <summary>True when the session or its user was invalidated after <paramref name="since"/>.</summary>
    public bool Overtaken(TokenHash hash, string userId, Moment since) =>
        Interlocked.Read(ref _everything) != since.Everything
        || _sessions.MarkedSince(hash, since.Sessions) || _users.MarkedSince(userId, since.Users);

    /// <summary>A moment: the generations of the marks.</summary>
    public readonly record struct Moment(long Sessions, long Users, long Everything);
}
