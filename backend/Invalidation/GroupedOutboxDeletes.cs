namespace Backend.Invalidation;

/// <summary>
/// Deletes delivered outbox rows in groups, the way a database groups commits: each caller hands in the ids it
/// delivered and waits; one statement deletes every id handed in while the previous statement ran. With one revocation
/// in flight that is one statement per revocation, as before; with fifty, a handful of statements (and commits) for all
/// of them instead of fifty. A caller's task completes once its rows are gone, or fails with the statement's error.
/// </summary>
internal sealed class GroupedOutboxDeletes(Func<long[], Task> delete)
{
    private readonly Lock _gate = new();
    private List<(long[] Ids, TaskCompletionSource Done)> _waiting = [];
    private bool _running;

    /// <summary>Number of delete statements run so far (for tests).</summary>
    internal long Statements => Interlocked.Read(ref _statements);
    private long _statements;

    public Task DeleteAsync(long[] ids)
    {
        if (ids.Length == 0) return Task.CompletedTask;
        // Continuations run on the thread pool, not inline on the loop that completes fifty of them.
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bool start;
        lock (_gate)
        {
            _waiting.Add((ids, done));
            start = !_running;
            _running = true;
        }
        if (start) _ = RunAsync();
        return done.Task;
    }

    private async Task RunAsync()
    {
        while (true)
        {
            List<(long[] Ids, TaskCompletionSource Done)> group;
            lock (_gate)
            {
                if (_waiting.Count == 0) { _running = false; return; }
                group = _waiting;
                _waiting = [];
            }
            try
            {
                Interlocked.Increment(ref _statements);
                await delete([.. group.SelectMany(g => g.Ids)]).ConfigureAwait(false);
                foreach (var (_, done) in group) done.TrySetResult();
            }
            catch (Exception ex)
            {
                foreach (var (_, done) in group) done.TrySetException(ex);
            }
        }
    }
}
