using Microsoft.Extensions.Options;

namespace Gateway.Routing;

/// <summary>
/// Watches the route-class file and reloads it after a short quiet period, because editors save in several steps
/// (truncate + write, or write a temp file and rename).
/// </summary>
internal sealed partial class RouteClassFileWatcher(RouteTable table, IOptions<RouteClassOptions> options, TimeProvider time,
    ILogger<RouteClassFileWatcher> logger) : IHostedService, IDisposable
{
    private FileSystemWatcher? _watcher;
    private ITimer? _debounce;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var path = RouteClassOptions.Resolve(options.Value.Path);
        if (!options.Value.Watch) return Task.CompletedTask;
        _debounce = time.CreateTimer(_ => _ = ReloadAsync(path), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _watcher = new FileSystemWatcher(Path.GetDirectoryName(path)!, Path.GetFileName(path))
        {
            NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime,
        };
        FileSystemEventHandler changed = (_, _) => _debounce.Change(options.Value.ReloadDebounce, Timeout.InfiniteTimeSpan);
        _watcher.Changed += changed;
        _watcher.Created += changed;
        _watcher.Renamed += (_, _) => _debounce.Change(options.Value.ReloadDebounce, Timeout.InfiniteTimeSpan);
        _watcher.EnableRaisingEvents = true;
        return Task.CompletedTask;
    }

    private async Task ReloadAsync(string path)
    {
        // Runs on a timer: an escaping exception would end the process, and the previous configuration must stay.
        try { await table.ReloadAsync(path).ConfigureAwait(false); }
        catch (Exception ex) { Log.ReloadFailed(logger, path, ex); }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        if (_watcher is not null) _watcher.EnableRaisingEvents = false;
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _watcher?.Dispose();
        _debounce?.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(2004, LogLevel.Error, "Reloading the route-class file {Path} failed; the previous configuration stays active.", EventName = "RouteClassReloadFailed")]
        public static partial void ReloadFailed(ILogger logger, string path, Exception exception);
    }
}
