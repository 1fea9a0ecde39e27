using System.Diagnostics.Metrics;
using Backend.Redis;
using Backend.Observability;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Backend.Invalidation;

/// <summary>
/// Delivers the invalidation outbox to Redis: fences and principal deletes first, then the pub/sub message. A request that
/// revoked something waits for its own entries (<see cref="ConfirmAsync"/>); whatever it could not deliver in time, the
/// background loop retries every <see cref="OutboxOptions.RetryInterval"/> until Redis acknowledges it. Delivery is
/// idempotent (fences only rise), so entries may be delivered twice or out of order, by any backend instance.
/// </summary>
internal sealed partial class OutboxRelay(
    InvalidationOutbox outbox, ISessionCache cache, IOptions<OutboxOptions> options, TimeProvider time, ILogger<OutboxRelay> logger,
    IMeterFactory? meters = null)
    : BackgroundService
{
    /// <summary>How often the background loop measures the oldest pending entry (a query; scrapes read the last value).</summary>
    internal static readonly TimeSpan AgeMeasureInterval = TimeSpan.FromSeconds(5);

    private readonly OutboxOptions _options = options.Value;
    // Fifty logouts in flight delete their rows in a few statements, not fifty transactions.
    private readonly GroupedOutboxDeletes _deletes = new(outbox.DeleteAsync);
    private double _lastOldestPendingAge;
    private long _lastAgeMeasured;
    // One warning per interval while Redis stays unreachable: enough to see it, not a log line per retry.
    private static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(10);
    private DateTimeOffset _lastWarning = DateTimeOffset.MinValue;

    /// <summary>
    /// Delivers these entries, retrying until <see cref="OutboxOptions.ConfirmTimeout"/>. True once none of them is
    /// pending (delivered here or by another deliverer); false when Redis did not acknowledge them all in time.
    /// </summary>
    public async Task<bool> ConfirmAsync(long[] ids, CancellationToken ct = default)
    {
        if (ids.Length == 0) return true;
        long deadline = time.GetTimestamp() + (long)(_options.ConfirmTimeout.TotalSeconds * time.TimestampFrequency);
        while (true)
        {
            if (await outbox.DeliverAsync(ids, ids.Length, DeliverAsync, ct) == ids.Length) return true;
            ids = await outbox.StillPendingAsync(ids);
            if (ids.Length == 0) return true;
            if (time.GetTimestamp() >= deadline) return false;
            await Task.Delay(_options.RetryInterval, time, ct);
        }
    }

    /// <summary>
    /// Delivers entries this request just wrote, from its own copy: each goes to Redis straight away and its row is then
    /// deleted by id, in one statement with the deletes of other requests in flight (<see cref="GroupedOutboxDeletes"/>).
    /// This skips the locking read of <see cref="ConfirmAsync(long[], CancellationToken)"/> (a transaction that kept a
    /// connection idle across the Redis call). Entries Redis did not acknowledge take that path, retried until
    /// <see cref="OutboxOptions.ConfirmTimeout"/>. The background pass leaves entries younger than that alone, and delivery
    /// is idempotent, so a second deliverer costs nothing but the repeat.
    /// </summary>
    public async Task<bool> ConfirmAsync(OutboxEntry[] entries, CancellationToken ct = default)
    {
        var delivered = new List<long>(entries.Length);
        var pending = new List<long>();
        foreach (var entry in entries) (await DeliverAsync(entry) ? delivered : pending).Add(entry.Id);
        if (delivered.Count > 0)
        {
            // Redis has acknowledged these: the revocation holds at the edge. A row left behind only means the background
            // pass delivers it again after ConfirmTimeout (idempotent), so a failed delete must not fail the request, nor
            // the other requests whose ids share its statement.
            try { await _deletes.DeleteAsync([.. delivered]); }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException) { Warn(() => Log.DeleteFailed(logger, ex.Message)); }
        }
        return pending.Count == 0 || await ConfirmAsync([.. pending], ct);
    }

    /// <summary>The delete statements run for requests' own entries so far (for tests).</summary>
    internal long GroupedDeleteStatements => _deletes.Statements;

    /// <summary>One background pass: delivers batch after batch until one comes back short. Returns how many were delivered.</summary>
    public async Task<int> DrainAsync(CancellationToken ct)
    {
        int total = 0;
        while (!ct.IsCancellationRequested)
        {
            // Entries younger than ConfirmTimeout belong to the request that wrote them, which is delivering them now.
            int n = await outbox.DeliverAsync(null, _options.BatchSize, DeliverAsync, ct, olderThan: _options.ConfirmTimeout);
            total += n;
            if (n < _options.BatchSize) break;
        }
        return total;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Measured by this loop, which runs on every instance: the gauge shows how far revocation lags behind Postgres
        // even when no request is waiting for a delivery. The meter factory disposes the instrument with the host.
        meters?.Create(BackendMetrics.MeterName).CreateObservableGauge("backend.outbox.oldest_pending_age",
            () => LastOldestPendingAge, "s",
            "Age of the oldest invalidation Redis has not acknowledged yet (0 when none): how far revocation lags behind the database.");
        using var timer = new PeriodicTimer(_options.RetryInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await DrainAsync(stoppingToken);
                    await MeasureOldestPendingAsync();
                }
                catch (Exception ex) when (ex is NpgsqlException or TimeoutException) { Warn(() => Log.DatabaseFailed(logger, ex.Message)); }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
    }

    /// <summary>Updates <c>backend.outbox.oldest_pending_age</c>, at most every <see cref="AgeMeasureInterval"/>.</summary>
    internal async Task MeasureOldestPendingAsync(bool force = false)
    {
        long now = time.GetTimestamp();
        if (!force && _lastAgeMeasured != 0 && time.GetElapsedTime(_lastAgeMeasured, now) < AgeMeasureInterval) return;
        _lastAgeMeasured = now;
        Volatile.Write(ref _lastOldestPendingAge, await outbox.OldestPendingAgeSecondsAsync());
    }

    /// <summary>The last measured age of the oldest pending entry, in seconds.</summary>
    internal double LastOldestPendingAge => Volatile.Read(ref _lastOldestPendingAge);

    private async Task<bool> DeliverAsync(OutboxEntry entry)
    {
        if (await cache.ApplyAsync(entry)) return true;
        Warn(() => Log.RedisPending(logger, entry.Id, entry.Kind, entry.Reason));
        return false;
    }

    private void Warn(Action log)
    {
        var now = time.GetUtcNow();
        lock (logger)
        {
            if (now - _lastWarning < LogInterval) return;
            _lastWarning = now;
        }
        log();
    }

    private static partial class Log
    {
        [LoggerMessage(2101, LogLevel.Warning, "Redis has not acknowledged invalidation {Id} ({Kind}, {Reason}) yet; retrying until it does. Until then the Redis principal TTL bounds staleness.", EventName = "InvalidationPending")]
        public static partial void RedisPending(ILogger logger, long id, string kind, string reason);

        [LoggerMessage(2102, LogLevel.Warning, "Could not read the invalidation outbox: {Error}", EventName = "InvalidationOutboxFailed")]
        public static partial void DatabaseFailed(ILogger logger, string error);

        [LoggerMessage(2103, LogLevel.Warning, "Could not delete delivered invalidations from the outbox ({Error}); the background pass delivers them again (idempotent) and deletes them.", EventName = "InvalidationDeleteFailed")]
        public static partial void DeleteFailed(ILogger logger, string error);
    }
}
