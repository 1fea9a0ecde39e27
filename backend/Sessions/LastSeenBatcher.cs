using System.Collections.Concurrent;

namespace Backend.Sessions;

/// <summary>
/// Buffers "session seen at" off the request path; <see cref="LastSeenFlusher"/> writes them in one UPDATE.
/// Bounded: one entry per session, the latest time wins.
/// </summary>
internal sealed class LastSeenBatcher
{
    private ConcurrentDictionary<Guid, DateTime> _pending = new();

    public void Record(Guid sessionId, DateTime seenAt) =>
        _pending.AddOrUpdate(sessionId, static (_, now) => now, static (_, old, now) => now > old ? now : old, seenAt);

    public int PendingCount => _pending.Count;

    /// <summary>Takes everything buffered so far.</summary>
    public (Guid[] Ids, DateTime[] Times) Drain()
    {
        var taken = Interlocked.Exchange(ref _pending, new ConcurrentDictionary<Guid, DateTime>());
        var ids = new Guid[taken.Count];
        var times = new DateTime[taken.Count];
        int i = 0;
        foreach (var (id, t) in taken)
        {
            if (i == ids.Length) break;
            ids[i] = id;
            times[i++] = t;
        }
        return (ids[..i], times[..i]);
    }
}
