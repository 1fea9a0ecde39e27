using Microsoft.Extensions.Options;

namespace Gateway.Routing;

/// <summary>
/// Watches the route-class file and reloads it after a short quiet period, because editors save in several steps
/// (truncate + write, or write a temp file and rename).
/// </summary>
internal sealed class RouteClassFileWatcher(RouteTable table, IOptions<RouteClassOptions> options, TimeProvider time) : IHostedService, IDisposable
{
    private FileSystemWatcher? _watcher;
    private ITimer? _debounce;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var path = Path.GetFullPath(options.Value.Path);
        if (!options.Value.Watch) return Task.CompletedTask;
        _debounce = time.CreateTimer(_ => table.Reload(path), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
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
}
