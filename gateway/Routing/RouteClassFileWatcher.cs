using System.Security.Cryptography;
using Microsoft.Extensions.Options;

namespace Gateway.Routing;

/// <summary>
/// Reloads the route-class file when its content changes, after a short quiet period (editors save in several steps:
/// truncate + write, or write a temp file and rename). What it watches:
/// <list type="bullet">
/// <item>the file's directory, every entry in it: a Kubernetes ConfigMap volume updates by swapping its <c>..data</c>
/// symlink, an event for <c>..data</c>, never for the file's own name (a watch filtered on the name missed every update);</item>
/// <item>the directory of the file the path finally resolves to, when it is a symlink (edited where it lives, the link's
/// own directory hears nothing); re-resolved after each change, since a swap points it elsewhere;</item>
/// <item>a poll of the content every <see cref="RouteClassOptions.PollInterval"/>, for file systems without notifications
/// and for a watcher that failed (its Error event also re-arms the watches).</item>
/// </list>
/// Any of them only leads to a reload when the content's SHA-256 differs from the last one loaded or refused, so events
/// for other files of the directory cost one read, and a refused file is not refused again every poll.
/// </summary>
internal sealed partial class RouteClassFileWatcher(RouteTable table, IOptions<RouteClassOptions> options, TimeProvider time,
    ILogger<RouteClassFileWatcher> logger) : IHostedService, IDisposable
{
    private readonly object _gate = new();
    private readonly List<FileSystemWatcher> _watchers = [];
    private string _path = "";
    private string? _watchedTarget;
    private byte[]? _lastContent;
    private ITimer? _debounce;
    private ITimer? _poll;
    private bool _stopped;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.Watch) return Task.CompletedTask;
        _path = RouteClassOptions.Resolve(options.Value.Path);
        _lastContent = Fingerprint(_path);   // what start-up loaded (or refused to start on)
        _debounce = time.CreateTimer(_ => _ = ReloadIfChangedAsync(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        Arm();
        var poll = options.Value.PollInterval;
        if (poll > TimeSpan.Zero) _poll = time.CreateTimer(_ => _ = ReloadIfChangedAsync(), null, poll, poll);
        return Task.CompletedTask;
    }

    /// <summary>(Re)creates the directory watches for the path and for the file it finally resolves to.</summary>
    private void Arm()
    {
        lock (_gate)
        {
            if (_stopped) return;
            foreach (var old in _watchers) old.Dispose();
            _watchers.Clear();
            _watchedTarget = FinalTarget(_path);
            var directories = new HashSet<string>(StringComparer.Ordinal) { Path.GetDirectoryName(_path)! };
            if (_watchedTarget is not null) directories.Add(Path.GetDirectoryName(_watchedTarget)!);
            foreach (var directory in directories)
            {
                if (!Directory.Exists(directory)) continue;
                var watcher = new FileSystemWatcher(directory)
                {
                    NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.Size | NotifyFilters.CreationTime,
                };
                watcher.Changed += OnChange;
                watcher.Created += OnChange;
                watcher.Deleted += OnChange;
                watcher.Renamed += OnChange;
                watcher.Error += OnError;
                watcher.EnableRaisingEvents = true;
                _watchers.Add(watcher);
            }
        }
    }

    private void OnChange(object sender, FileSystemEventArgs e) => _debounce?.Change(options.Value.ReloadDebounce, Timeout.InfiniteTimeSpan);

    private void OnError(object sender, ErrorEventArgs e)
    {
        // An overflowed event queue or a watched directory that went away: watch again and look at the content now.
        Log.WatchFailed(logger, _path, e.GetException().Message);
        Arm();
        _debounce?.Change(options.Value.ReloadDebounce, Timeout.InfiniteTimeSpan);
    }

    private async Task ReloadIfChangedAsync()
    {
        // Runs on a timer: an escaping exception would end the process, and the previous configuration must stay.
        try
        {
            if (!string.Equals(FinalTarget(_path), _watchedTarget, StringComparison.Ordinal)) Arm();   // a symlink swap
            var content = Fingerprint(_path);
            lock (_gate)
            {
                if (content is null || (_lastContent is not null && content.AsSpan().SequenceEqual(_lastContent))) return;
                _lastContent = content;
            }
            await table.ReloadAsync(_path).ConfigureAwait(false);
        }
        catch (Exception ex) { Log.ReloadFailed(logger, _path, ex); }
    }

    /// <summary>SHA-256 of the file's bytes (through any symlinks); null while it cannot be read (mid-swap, deleted).</summary>
    private static byte[]? Fingerprint(string path)
    {
        try { return SHA256.HashData(File.ReadAllBytes(path)); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>The file a symlinked path finally designates, or null when the path is no symlink (or cannot be resolved).</summary>
    private static string? FinalTarget(string path)
    {
        try { return File.ResolveLinkTarget(path, returnFinalTarget: true)?.FullName; }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { return null; }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _stopped = true;
            foreach (var watcher in _watchers) watcher.EnableRaisingEvents = false;
        }
        _poll?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        lock (_gate) foreach (var watcher in _watchers) watcher.Dispose();
        _debounce?.Dispose();
        _poll?.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(2004, LogLevel.Error, "Reloading the route-class file {Path} failed; the previous configuration stays active.", EventName = "RouteClassReloadFailed")]
        public static partial void ReloadFailed(ILogger logger, string path, Exception exception);

        [LoggerMessage(2007, LogLevel.Warning, "Watching the route-class file {Path} failed ({Message}); watching it again and checking its content now.", EventName = "RouteClassWatchFailed")]
        public static partial void WatchFailed(ILogger logger, string path, string message);
    }
}
