using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Gateway.Observability;

namespace Gateway.Routing.Diff;

/// <summary>
/// Compares every applied hot reload with the version it replaced (<see cref="ConfigDiff"/>) and, when access got weaker,
/// logs one Warning listing every weakened request group and keeps the result for <c>/gateway/status</c>. It only reports:
/// the reload is applied either way (docs/gateway.md, "Safe config changes"). The comparison runs on a background loop,
/// in reload order, so a reload is never slowed by it and requests never see it.
/// </summary>
internal sealed partial class ConfigChangeAudit(IRouteTable table, TimeProvider time, ILogger<ConfigChangeAudit> logger, IMeterFactory meters)
    : IHostedService, IDisposable
{
    // A counter, not a gauge: a later harmless reload must not hide that access was weakened (alert on increase()).
    private readonly Counter<long> _weakeningReloads = meters.Create(GatewayMetrics.MeterName).CreateCounter<long>(
        "gateway.config.weakening_reloads", "{reload}", "Applied route-class reloads that weakened access for at least one request.");
    private readonly Channel<RouteClassSnapshot> _applied = Channel.CreateUnbounded<RouteClassSnapshot>(new() { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private RouteClassSnapshot? _previous;
    private Task _loop = Task.CompletedTask;
    private volatile ConfigChangeSnapshot? _lastChange;
    private volatile ConfigChangeSnapshot? _lastWeakening;

    /// <summary>The comparison of the last applied reload with the version before it; null until one was compared.</summary>
    public ConfigChangeSnapshot? LastChange => _lastChange;

    /// <summary>The last reload that weakened access, kept after later reloads (like the last rejected file); null when none.</summary>
    public ConfigChangeSnapshot? LastWeakening => _lastWeakening;

    // Registered before the file watcher, so it is subscribed before the first reload can happen.
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _previous = table.Current;
        table.Changed += OnChanged;
        _loop = Task.Run(() => CompareLoopAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    private void OnChanged(RouteClassSnapshot applied) => _applied.Writer.TryWrite(applied);

    private async Task CompareLoopAsync(CancellationToken stopping)
    {
        try
        {
            await foreach (var next in _applied.Reader.ReadAllAsync(stopping).ConfigureAwait(false))
            {
                var previous = _previous!;
                _previous = next;
                await CompareAsync(previous, next).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested) { }
    }

    private async Task CompareAsync(RouteClassSnapshot previous, RouteClassSnapshot next)
    {
        ConfigDiffReport report;
        try { report = await ConfigDiff.CompareAsync(previous, next).ConfigureAwait(false); }
        catch (Exception ex)
        {
            // The reload itself succeeded; only its audit is missing, and the operator must know that.
            Log.CompareFailed(logger, previous.Version, next.Version, ex);
            _lastChange = new ConfigChangeSnapshot(time.GetUtcNow(), previous.Version, next.Version, 0, [], $"The comparison failed: {ex.GetType().Name}.");
            return;
        }
        var weakened = report.Weakened.Select(w => new WeakenedAccess(ConfigDiffText.Summary(w), w.Old.RouteId, w.New.RouteId,
            w.Old.Access.ToString(), w.New.Access.ToString(), [.. w.Requests.Select(r => r.ToString())])).ToList();
        var change = new ConfigChangeSnapshot(time.GetUtcNow(), report.OldVersion, report.NewVersion, report.Changes.Count, weakened,
            report.Truncated ? "Partial: the sample request limit was reached." : null);
        if (weakened.Count > 0)
        {
            _weakeningReloads.Add(1);
            Log.Weakened(logger, report.OldVersion, report.NewVersion, weakened.Count, [.. weakened.Select(w => w.Summary)]);
            _lastWeakening = change;
        }
        // Published last: whoever sees this reload in /gateway/status can rely on its warning and its count being out.
        _lastChange = change;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        StopComparing();
        await _loop.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    // Cancels rather than disposes the source: the host may dispose this service while (or before) another caller stops
    // it, as WebApplicationFactory's stop does beside the program's own stop-then-dispose, and a disposed source would make
    // that StopAsync throw. A source without timers or a wait handle holds nothing to release (RedisClient does the same).
    public void Dispose() => StopComparing();

    /// <summary>No more reloads queued, the loop told to end. Idempotent: stop and dispose may both run, in either order.</summary>
    private void StopComparing()
    {
        table.Changed -= OnChanged;
        _applied.Writer.TryComplete();
        _stopping.Cancel();
    }

    private static partial class Log
    {
        [LoggerMessage(2005, LogLevel.Warning, "Route-class reload from version {OldVersion} to {NewVersion} weakened access for {Count} request group(s): {Weakened}. The new version is active; check it with GET /gateway/status or 'gateway validate --diff'.", EventName = "RouteClassesWeakened")]
        public static partial void Weakened(ILogger logger, string oldVersion, string newVersion, int count, string[] weakened);

        [LoggerMessage(2006, LogLevel.Error, "Comparing route-class version {NewVersion} with {OldVersion} failed; the reload is applied but was not checked for weaker access.", EventName = "RouteClassesCompareFailed")]
        public static partial void CompareFailed(ILogger logger, string oldVersion, string newVersion, Exception exception);
    }
}
