using Microsoft.Extensions.Options;

namespace Gateway.Streams;

/// <summary>
/// Shutdown: from the moment the host starts stopping, new streams are refused (503 <c>shutting-down</c>); open ones
/// get <see cref="StreamOptions.DrainTimeout"/> to end by themselves, then the gateway closes them, so Kestrel's
/// graceful stop (which waits for every request, upgraded ones included) ends well before the host's shutdown timeout.
/// </summary>
internal sealed partial class StreamDrain(IHostApplicationLifetime lifetime, StreamRegistry registry, IOptions<StreamOptions> options,
    TimeProvider time, ILogger<StreamDrain> logger) : IHostedService
{
    public const string Reason = "shutdown";
    private CancellationTokenRegistration _stopping;
    private Task _drain = Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // ApplicationStopping fires before any hosted service (Kestrel included) stops: the drain runs alongside them.
        _stopping = lifetime.ApplicationStopping.Register(() => _drain = DrainAsync());
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.DisposeAsync().ConfigureAwait(false);
        await _drain.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task DrainAsync()
    {
        registry.BeginDrain();
        int open = registry.Count;
        if (open == 0) return;
        Log.Draining(logger, open, options.Value.DrainTimeout);
        var deadline = time.GetUtcNow() + options.Value.DrainTimeout;
        // Short polls rather than one wait: most drains end early, as clients and upstreams finish on their own.
        while (registry.Count > 0 && time.GetUtcNow() < deadline)
            await Task.Delay(TimeSpan.FromMilliseconds(50), time).ConfigureAwait(false);
        int closed = registry.CloseAll(Reason);
        if (closed > 0) Log.Closed(logger, closed);
    }

    private static partial class Log
    {
        [LoggerMessage(4304, LogLevel.Information, "Shutting down: {Count} open stream(s) get {DrainTimeout} to end.", EventName = "StreamsDraining")]
        public static partial void Draining(ILogger logger, int count, TimeSpan drainTimeout);

        [LoggerMessage(4305, LogLevel.Warning, "Shutting down: closed {Count} stream(s) still open after the drain timeout.", EventName = "StreamsDrained")]
        public static partial void Closed(ILogger logger, int count);
    }
}
