using System.Text.Json;
using Backend.Sessions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Backend.Redis;

/// <summary>StackExchange.Redis 1.2.6 behind <see cref="ISessionCache"/>. Connects in the background; never blocks start-up.</summary>
internal sealed partial class RedisSessionCache : ISessionCache, IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly RedisOptions _options;
    private readonly ILogger<RedisSessionCache> _logger;
    private readonly TimeProvider _time;
    private readonly Task<ConnectionMultiplexer?> _connecting;
    // During an outage every request would log; one warning per interval is enough to see it.
    private static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(10);
    private long _lastLogTicks = long.MinValue;

    public RedisSessionCache(IOptions<RedisOptions> options, ILogger<RedisSessionCache> logger, TimeProvider time)
    {
        _options = options.Value;
        _logger = logger;
        _time = time;
        _connecting = ConnectAsync();
    }

    private async Task<ConnectionMultiplexer?> ConnectAsync()
    {
        try
        {
            var config = ConfigurationOptions.Parse(_options.Configuration);
            config.AbortOnConnectFail = false;
            var mux = await ConnectionMultiplexer.ConnectAsync(config).ConfigureAwait(false);
            // Mandatory on 1.2.6: with the default, async calls inside ASP.NET Core can hang forever.
            mux.PreserveAsyncOrder = false;
            return mux;
        }
        catch (Exception ex) when (ex is RedisConnectionException or ArgumentException or TimeoutException)
        {
            Log.Failed(_logger, "connect", ex.Message);
            return null;
        }
    }

    private async Task<IDatabase?> DatabaseAsync()
    {
        // Still connecting: wait at most one time-box; write-through is best effort.
        var mux = await _connecting.WaitAsync(_options.OperationTimeout, _time).ConfigureAwait(false);
        return mux is { IsConnected: true } ? mux.GetDatabase() : null;
    }

    public Task SetAsync(HashedPrincipal principal) => RunAsync("set", async db =>
    {
        var ttl = principal.Principal.DiesAt - _time.GetUtcNow().UtcDateTime;
        string key = RedisKeys.Session(principal.TokenHash);
        if (ttl <= TimeSpan.Zero) { await db.KeyDeleteAsync(key).ConfigureAwait(false); return; }
        await db.StringSetAsync(key, JsonSerializer.Serialize(principal.Principal, Json), ttl).ConfigureAwait(false);
    });

    public Task RemoveAsync(IReadOnlyCollection<string> tokenHashes) => tokenHashes.Count == 0 ? Task.CompletedTask : RunAsync("delete", db =>
    {
        // One DEL per key: keys carry different hash tags, so a multi-key DEL would fail on a cluster.
        var tasks = new List<Task>(tokenHashes.Count);
        foreach (var hash in tokenHashes) tasks.Add(db.KeyDeleteAsync(RedisKeys.Session(hash)));
        return Task.WhenAll(tasks);
    });

    public Task PublishAsync(InvalidationMessage message) => RunAsync("publish", db =>
        db.PublishAsync(RedisKeys.InvalidationChannel, JsonSerializer.Serialize(message, Json)));

    private async Task RunAsync(string operation, Func<IDatabase, Task> call)
    {
        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            if (db is null) { if (ShouldLog()) Log.Unavailable(_logger, operation); return; }
            await call(db).WaitAsync(_options.OperationTimeout, _time).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            if (ShouldLog()) Log.Failed(_logger, operation, ex.Message);
        }
    }

    private bool ShouldLog()
    {
        long now = _time.GetUtcNow().UtcTicks;
        long last = Interlocked.Read(ref _lastLogTicks);
        return (last == long.MinValue || now - last >= LogInterval.Ticks) && Interlocked.CompareExchange(ref _lastLogTicks, now, last) == last;
    }

    public void Dispose()
    {
        if (_connecting.IsCompletedSuccessfully) _connecting.Result?.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Redis {Operation} failed; the gateway's L1 TTL bounds staleness: {Error}", EventName = "RedisFailed")]
        public static partial void Failed(ILogger logger, string operation, string error);

        [LoggerMessage(2, LogLevel.Warning, "Redis unavailable; skipped {Operation}", EventName = "RedisUnavailable")]
        public static partial void Unavailable(ILogger logger, string operation);
    }
}
