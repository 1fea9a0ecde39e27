using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Gateway.Sessions;

/// <summary>
/// Batches the sessions the gateway validated and flushes them to <c>POST /internal/sessions/touch</c>, so sessions
/// served only from gateway caches do not idle out.
/// </summary>
internal sealed partial class SessionActivityTracker(IntrospectionClient client, IOptions<SessionOptions> options, TimeProvider time,
    ILogger<SessionActivityTracker> logger) : BackgroundService
{
    private const int BatchSize = 1000;
    private ConcurrentDictionary<string, byte> _seen = new(StringComparer.Ordinal);

    /// <summary>Marks a session as active (hex token hash). Cheap when already marked in this period.</summary>
    /// <remarks>
    /// Reads before writing: <c>TryAdd</c> takes the bucket's lock even when the key is present, and every request of
    /// one session contends for that same lock; <c>ContainsKey</c> is lock-free.
    /// </remarks>
    public void Record(string tokenHashHex)
    {
        var seen = _seen;
        if (!seen.ContainsKey(tokenHashHex)) seen.TryAdd(tokenHashHex, 0);
    }

    public int Pending => _seen.Count;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.ActivityFlushInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false)) await FlushAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) { }
        // Shutting down: report what this instance saw so those sessions do not idle out early.
        using var last = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await FlushAsync(last.Token).ConfigureAwait(false);
    }

    /// <summary>Sends everything recorded since the last flush; what the backend refuses is kept for the next one.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var batch = Interlocked.Exchange(ref _seen, new ConcurrentDictionary<string, byte>(StringComparer.Ordinal));
        if (batch.IsEmpty) return;
        var hashes = new List<string>(batch.Keys);
        for (int i = 0; i < hashes.Count; i += BatchSize)
        {
            var chunk = hashes.GetRange(i, Math.Min(BatchSize, hashes.Count - i));
            if (await client.TouchAsync(chunk, cancellationToken).ConfigureAwait(false)) continue;
            Log.TouchFailed(logger, chunk.Count);
            foreach (var h in chunk) Record(h);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(4101, LogLevel.Warning, "Could not report {Count} active sessions to the backend; retrying at the next flush.", EventName = "SessionTouchFailed")]
        public static partial void TouchFailed(ILogger logger, int count);
    }
}
