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
        // A writer that read the old dictionary just before the swap may still add to it: enumerate, never trust Count.
        var ids = new List<Guid>(taken.Count);
        var times = new List<DateTime>(taken.Count);
        foreach (var (id, t) in taken)
        {
            ids.Add(id);
            times.Add(t);
        }
        return (ids.ToArray(), times.ToArray());
    }
}
