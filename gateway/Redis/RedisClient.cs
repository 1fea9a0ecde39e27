using Gateway.Observability;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Gateway.Redis;

/// <summary>
/// StackExchange.Redis behind <see cref="IRedisClient"/>: time-box per call, a breaker that opens on the first
/// failure (a stalled Redis costs one time-box, then nothing) and a background probe that closes it again.
/// </summary>
internal sealed partial class RedisClient : IRedisClient, IAsyncDisposable
{
    private readonly RedisOptions _options;
    private readonly ILogger<RedisClient> _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private ConnectionMultiplexer? _mux;
    private readonly TaskCompletionSource<IConnectionMultiplexer> _created = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _available;
    // Channels subscribed successfully: what "the subscription is connected" is about.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _channels = new(StringComparer.Ordinal);
    // Channels asked for and not yet subscribed: their messages are not arriving. Until 2026-12-06 only a subscription
    // lost after it had worked counted, so a gateway whose SUBSCRIBE never went through (Redis down at start, an ACL
    // user without channel rights) trusted L1 on closed classes and read healthy.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _pendingChannels = new(StringComparer.Ordinal);
    // Its count, read on every closed-class L1 hit: ConcurrentDictionary.IsEmpty takes every bucket's lock when empty.
    private int _pendingCount;
    private int _probing;
    // Set when a connection failed after a channel was subscribed, until every channel reads subscribed again: messages
    // published meanwhile are lost, so what L1 holds may have been revoked without its message reaching this instance.
    private volatile bool _subscriptionLost;
    private readonly object _subscriptionGate = new();
    private long _subscriptionLosses;
    private bool _watchingSubscription;

    private readonly GatewayMetrics? _metrics;

    public RedisClient(IOptions<RedisOptions> options, ILogger<RedisClient> logger, TimeProvider time, GatewayMetrics? metrics = null)
    {
        _metrics = metrics;
        _options = options.Value;
        _logger = logger;
        _time = time;
        _ = ConnectLoopAsync();
    }

    public bool IsAvailable => _available;

    /// <summary>
    /// Redis answers, every channel asked for is subscribed, and no message has been lost since the subscription was last
    /// known whole: what a <c>failMode: closed</c> class needs to trust L1. A lost subscription connection (killed by Redis, its output
    /// buffer limit, a failover) can leave commands working while messages are not delivered.
    /// </summary>
    public bool RevocationsCanArrive => _available && !_subscriptionLost && Volatile.Read(ref _pendingCount) == 0;

    /// <summary>Raised once every subscribed channel is subscribed again after a lost connection, before
    /// <see cref="RevocationsCanArrive"/> reads true again: messages were lost in between.</summary>
    public event Action? SubscriptionRestored;
    public event Action<bool>? AvailabilityChanged;
    /// <summary>
    /// True while every channel subscribed through this client is subscribed on a connected connection (the library's own
    /// answer for the channel). False before the first subscription succeeds: the multiplexer being connected says
    /// nothing about it, and the status page once read "connected" for a gateway whose SUBSCRIBE had never gone through.
    /// </summary>
    public bool IsSubscriptionConnected
    {
        get
        {
            if (_mux is not { } mux || _channels.IsEmpty) return false;
            var subscriber = mux.GetSubscriber();
            foreach (var channel in _channels.Keys)
                if (!subscriber.IsConnected(RedisChannel.Literal(channel))) return false;
            return true;
        }
    }

    private async Task ConnectLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                var config = ConfigurationOptions.Parse(_options.Configuration);
                // Fail fast while disconnected, as our breaker expects: the library's default backlog would hold commands
                // (rate-limit decisions, principal writes) and replay them after a reconnect, when their answer is stale.
                config.BacklogPolicy = BacklogPolicy.FailFast;
                var mux = await ConnectionMultiplexer.ConnectAsync(config);
                mux.ConnectionFailed += OnConnectionFailed;
                _mux = mux;
                _created.TrySetResult(mux);
                if (mux.IsConnected) SetAvailable(true); else StartProbe();
                return;
            }
            catch (Exception ex) when (ex is RedisConnectionException or ArgumentException or TimeoutException)
            {
                Log.ConnectFailed(_logger, ex.Message);
                await Task.Delay(_options.ProbeInterval, _time, _stopping.Token).ConfigureAwait(false);
            }
        }
    }

    private IDatabase? Db => _available ? _mux?.GetDatabase() : null;

    private async ValueTask<RedisReply<T>> RunAsync<T>(string op, Func<IDatabase, Task<T>> call)
    {
        var db = Db;
        if (db is null) return RedisReply<T>.Unavailable;
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            T value = await call(db).WaitAsync(_options.OperationTimeout, _time).ConfigureAwait(false);
            _metrics?.RecordRedisCall(op, System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalSeconds);
            return new RedisReply<T>(true, value);
        }
        catch (Exception ex) when (ex is TimeoutException or RedisException or ObjectDisposedException)
        {
            _metrics?.RecordRedisFailure(op, ex is TimeoutException or RedisTimeoutException ? "timeout" : "redis");
            Trip(ex);
            return RedisReply<T>.Unavailable;
        }
    }

    public ValueTask<RedisReply<string?>> GetStringAsync(string key) =>
        RunAsync<string?>("get", async db => (string?)await db.StringGetAsync(key).ConfigureAwait(false));

    public ValueTask<RedisReply<byte[]?>> GetBytesAsync(string key) =>
        RunAsync<byte[]?>("get", async db => (byte[]?)await db.StringGetAsync(key).ConfigureAwait(false));

    public ValueTask<RedisReply<bool>> SetAsync(string key, string value, TimeSpan ttl) =>
        RunAsync("set", db => db.StringSetAsync(key, value, ttl));

    public ValueTask<RedisReply<bool>> SetAsync(string key, byte[] value, TimeSpan ttl) =>
        RunAsync("set", db => db.StringSetAsync(key, value, ttl));

    public ValueTask<RedisReply<long>> DeleteAsync(string key) =>
        RunAsync("del", async db => await db.KeyDeleteAsync(key).ConfigureAwait(false) ? 1L : 0L);

    public ValueTask<RedisReply<RedisResult>> EvaluateAsync(LuaScript script, string[] keys, RedisValue[] args)
    {
        var redisKeys = new RedisKey[keys.Length];
        for (int i = 0; i < keys.Length; i++) redisKeys[i] = keys[i];
        return EvaluateAsync(script.Text, redisKeys, args);
    }

    public ValueTask<RedisReply<RedisResult>> EvaluateAsync(string script, RedisKey[] keys, RedisValue[] args) =>
        RunAsync("eval", db => db.ScriptEvaluateAsync(script, keys, args));

    public ValueTask<RedisReply<bool>> SetAddAsync(string key, string member, TimeSpan ttl) =>
        RunAsync("sadd", async db =>
        {
            var tx = db.CreateTransaction();
            var added = tx.SetAddAsync(key, member);
            _ = tx.KeyExpireAsync(key, ttl);
            await tx.ExecuteAsync().ConfigureAwait(false);
            return await added.ConfigureAwait(false);
        });

    public ValueTask<RedisReply<string[]>> SetMembersAsync(string key) =>
        RunAsync("smembers", async db =>
        {
            var members = await db.SetMembersAsync(key).ConfigureAwait(false);
            var result = new string[members.Length];
            for (int i = 0; i < members.Length; i++) result[i] = members[i]!;
            return result;
        });

    public ValueTask<RedisReply<long>> PublishAsync(string channel, string message) =>
        RunAsync("publish", async db => await db.Multiplexer.GetSubscriber().PublishAsync(RedisChannel.Literal(channel), message).ConfigureAwait(false));

    public async Task SubscribeAsync(string channel, Action<string> onMessage)
    {
        if (_pendingChannels.TryAdd(channel, 0)) Interlocked.Increment(ref _pendingCount);
        while (_mux is null && !_stopping.IsCancellationRequested)
            await Task.Delay(50, _stopping.Token).ConfigureAwait(false);
        var subscriber = _mux!.GetSubscriber();
        var literal = RedisChannel.Literal(channel);
        Action<RedisChannel, RedisValue> handler = (_, value) => onMessage(value!);
        try
        {
            await subscriber.SubscribeAsync(literal, handler).ConfigureAwait(false);
            _channels.TryAdd(channel, 0);
            if (_pendingChannels.TryRemove(channel, out _)) Interlocked.Decrement(ref _pendingCount);
        }
        catch
        {
            // Messages published until a later try succeeds are lost: once it does, the listeners drop what they cached
            // meanwhile, as after a lost connection.
            MarkSubscriptionLost();
            // The library registers the handler before the server confirms, and keeps it when SUBSCRIBE fails (Redis
            // down): every retry added one more, and once Redis was back each message was handled once per failed try.
            try { await subscriber.UnsubscribeAsync(literal, handler, CommandFlags.FireAndForget).ConfigureAwait(false); }
            catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException) { }
            throw;
        }
    }

    public Task<IConnectionMultiplexer> GetMultiplexerAsync() => _created.Task;

    public void ReportFailure(Exception exception)
    {
        _metrics?.RecordRedisFailure("shared", exception is TimeoutException or RedisTimeoutException ? "timeout" : "redis");
        Trip(exception);
    }

    /// <summary>
    /// A connection failed. An interactive connection's failure concerns the subscription only where they share the
    /// connection (RESP3): with RESP2 the subscription has its own, still connected. Every loss counts (an epoch), so a
    /// watcher finishing while a new loss arrives does not clear the flag for it.
    /// </summary>
    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        if (_channels.IsEmpty || _stopping.IsCancellationRequested) return;
        if (e.ConnectionType == ConnectionType.Interactive && IsSubscriptionConnected) return;
        if (MarkSubscriptionLost()) Log.SubscriptionLost(_logger, e.ConnectionType.ToString(), e.FailureType.ToString());
    }

    /// <summary>Counts a loss and starts the watcher unless one runs; true when it started one.</summary>
    private bool MarkSubscriptionLost()
    {
        lock (_subscriptionGate)
        {
            _subscriptionLosses++;
            _subscriptionLost = true;
            if (_watchingSubscription) return false;
            _watchingSubscription = true;
        }
        _ = Task.Run(WatchSubscriptionAsync);
        return true;
    }

    /// <summary>
    /// Waits until every channel is subscribed again (a PING on the subscription connection returns behind the library's
    /// re-SUBSCRIBE), tells the listeners (they drop what may have been revoked unseen), then clears the flag, unless
    /// another loss came meanwhile: then it waits again. Rare, so a lock is fine here.
    /// </summary>
    private async Task WatchSubscriptionAsync()
    {
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                await Task.Delay(SubscriptionPollInterval, _time, _stopping.Token).ConfigureAwait(false);
                if (Volatile.Read(ref _pendingCount) != 0 || !IsSubscriptionConnected || _mux is not { } mux) continue;
                long losses;
                lock (_subscriptionGate) losses = _subscriptionLosses;
                try { await mux.GetSubscriber().PingAsync().WaitAsync(_options.OperationTimeout, _time).ConfigureAwait(false); }
                catch (Exception ex) when (ex is TimeoutException or RedisException) { continue; }
                try { SubscriptionRestored?.Invoke(); }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // A listener failed: L1 may still hold what was revoked unseen. Keep distrusting it and try again.
                    Log.SubscriptionWatchFailed(_logger, ex);
                    continue;
                }
                lock (_subscriptionGate)
                {
                    if (_subscriptionLosses != losses) continue;   // lost again while restoring: what was dropped may be stale again
                    _subscriptionLost = false;
                    _watchingSubscription = false;
                }
                Log.SubscriptionRestored(_logger);
                return;
            }
        }
        catch (OperationCanceledException) { }
        lock (_subscriptionGate) _watchingSubscription = false;
    }

    private static readonly TimeSpan SubscriptionPollInterval = TimeSpan.FromMilliseconds(100);

    private void Trip(Exception ex)
    {
        if (_available) Log.RedisDown(_logger, ex.GetType().Name, ex.Message);
        SetAvailable(false);
        StartProbe();
    }

    private void SetAvailable(bool available)
    {
        if (_available == available) return;
        _available = available;
        if (available) Log.RedisUp(_logger);
        AvailabilityChanged?.Invoke(available);
    }

    private void StartProbe()
    {
        if (Interlocked.Exchange(ref _probing, 1) == 1) return;
        _ = Task.Run(async () =>
        {
            try
            {
                while (!_stopping.IsCancellationRequested)
                {
                    await Task.Delay(_options.ProbeInterval, _time, _stopping.Token).ConfigureAwait(false);
                    var mux = _mux;
                    if (mux is null) continue;
                    try
                    {
                        await mux.GetDatabase().PingAsync().WaitAsync(_options.OperationTimeout, _time).ConfigureAwait(false);
                        SetAvailable(true);
                        return;
                    }
                    catch (Exception ex) when (ex is TimeoutException or RedisException) { }
                }
            }
            catch (OperationCanceledException) { }
            finally
            {
                Volatile.Write(ref _probing, 0);
                // A failure between the successful ping and here found this probe still running and started none: the
                // breaker would stay open for good, every Redis call answered "unavailable" with nothing probing.
                if (!_available && !_stopping.IsCancellationRequested) StartProbe();
            }
        });
    }

    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        _created.TrySetCanceled();
        if (_mux is not null) await _mux.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
        _mux?.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(1001, LogLevel.Warning, "Redis is unavailable ({Kind}: {Message}); degrading and probing for recovery.", EventName = "RedisDown")]
        public static partial void RedisDown(ILogger logger, string kind, string message);

        [LoggerMessage(1002, LogLevel.Information, "Redis is available.", EventName = "RedisUp")]
        public static partial void RedisUp(ILogger logger);

        [LoggerMessage(1003, LogLevel.Warning, "Could not connect to Redis: {Message}", EventName = "RedisConnectFailed")]
        public static partial void ConnectFailed(ILogger logger, string message);

        [LoggerMessage(1004, LogLevel.Warning, "A Redis connection failed ({ConnectionType}, {Failure}): invalidation messages may be lost until the subscription is back; closed classes re-check every session meanwhile.", EventName = "RedisSubscriptionLost")]
        public static partial void SubscriptionLost(ILogger logger, string connectionType, string failure);

        [LoggerMessage(1005, LogLevel.Information, "The invalidation subscription is back; sessions cached before it were dropped from L1.", EventName = "RedisSubscriptionRestored")]
        public static partial void SubscriptionRestored(ILogger logger);

        [LoggerMessage(1006, LogLevel.Error, "Restoring trust after a lost invalidation subscription failed; closed classes keep re-checking every session, and it is tried again.", EventName = "RedisSubscriptionWatchFailed")]
        public static partial void SubscriptionWatchFailed(ILogger logger, Exception exception);
    }
}
