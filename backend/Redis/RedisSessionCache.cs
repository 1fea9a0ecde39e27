using Backend.Invalidation;
using Backend.Sessions;
using Gateway.Contracts;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Backend.Redis;

/// <summary>StackExchange.Redis behind <see cref="ISessionCache"/>. Connects in the background; never blocks start-up.</summary>
internal sealed partial class RedisSessionCache : ISessionCache, IDisposable
{
    // A fence outlives the sessions it guards by this much, so a backend whose clock runs behind cannot write past it.
    private static readonly TimeSpan FenceMargin = TimeSpan.FromMinutes(5);
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
            // Fail fast while disconnected: the outbox retries what failed; a library backlog would only replay it later.
            config.BacklogPolicy = BacklogPolicy.FailFast;
            var mux = await ConnectionMultiplexer.ConnectAsync(config).ConfigureAwait(false);
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
        // Still connecting: wait at most one time-box.
        var mux = await _connecting.WaitAsync(_options.OperationTimeout, _time).ConfigureAwait(false);
        return mux is { IsConnected: true } ? mux.GetDatabase() : null;
    }

    public Task SetAsync(HashedPrincipal principal) => RunAsync("set", async db =>
    {
        var ttl = SessionRedisContract.PrincipalTtl(principal.Principal.ValidUntil, _time.GetUtcNow());
        string hash = principal.TokenHash;
        if (ttl <= TimeSpan.Zero) { await db.KeyDeleteAsync(SessionRedisContract.SessionKey(hash)).ConfigureAwait(false); return; }
        await db.ScriptEvaluateAsync(SessionRedisContract.SetUnlessFencedScript,
            [SessionRedisContract.SessionKey(hash), SessionRedisContract.FenceKey(hash)],
            [SessionPrincipalJson.Serialize(principal.Principal), (long)Math.Ceiling(ttl.TotalMilliseconds), principal.Principal.Version]).ConfigureAwait(false);
    });

    /// <summary>Sessions fenced per round of scripts, and per <see cref="RedisOptions.OperationTimeout"/> of time-box.</summary>
    internal const int FenceChunk = 500;

    // The time-box grows with the sessions to fence: one OperationTimeout for all of them made a logout-all or membership
    // change of a user with tens of thousands of sessions (a script that logs in and never logs out) time out on every
    // try, and every later change of that user answered 503 for good.
    public Task<bool> ApplyAsync(OutboxEntry entry) => RunAsync("invalidate", _options.OperationTimeout * Math.Max(1, (entry.TokenHashes.Length + FenceChunk - 1) / FenceChunk), async db =>
    {
        string message = entry.ToMessage(_time.GetUtcNow()).Serialize();
        // Every entry that names sessions carries a fence (revocations, membership changes); the others only publish.
        if (entry.Fence is { } fence && entry.TokenHashes.Length > 0)
        {
            // Fences outlive every principal of these sessions: none can be valid after its absolute expiry.
            var until = entry.FenceUntil ?? _time.GetUtcNow().UtcDateTime;
            long ttlMs = (long)Math.Ceiling((until - _time.GetUtcNow().UtcDateTime + FenceMargin).TotalMilliseconds);
            RedisValue value = fence == OutboxEntry.Revoked ? SessionRedisContract.Revoked : fence;
            // One session (logout, session delete): its script publishes after its delete, one round trip for both.
            RedisValue[] args = entry.TokenHashes.Length == 1
                ? [value, Math.Max(1, ttlMs), SessionRedisContract.InvalidationChannel, message]
                : [value, Math.Max(1, ttlMs)];
            // One script per session: each session's keys share a hash tag, different sessions may live on different masters.
            // In rounds, so a user's tens of thousands of sessions do not queue as many commands at once.
            for (int start = 0; start < entry.TokenHashes.Length; start += FenceChunk)
            {
                var tasks = new Task[Math.Min(FenceChunk, entry.TokenHashes.Length - start)];
                for (int i = 0; i < tasks.Length; i++)
                {
                    string hash = entry.TokenHashes[start + i];
                    tasks[i] = db.ScriptEvaluateAsync(SessionRedisContract.FenceScript,
                        [SessionRedisContract.SessionKey(hash), SessionRedisContract.FenceKey(hash)], args);
                }
                await Task.WhenAll(tasks).ConfigureAwait(false);
            }
            if (entry.TokenHashes.Length == 1) return;
        }
        // Published only after the deletes: a gateway that reacts by reading Redis finds the principal gone.
        await db.PublishAsync(RedisChannel.Literal(SessionRedisContract.InvalidationChannel), message).ConfigureAwait(false);
    });

    private Task<bool> RunAsync(string operation, Func<IDatabase, Task> call) => RunAsync(operation, _options.OperationTimeout, call);

    private async Task<bool> RunAsync(string operation, TimeSpan timeBox, Func<IDatabase, Task> call)
    {
        try
        {
            var db = await DatabaseAsync().ConfigureAwait(false);
            if (db is null) { if (ShouldLog()) Log.Unavailable(_logger, operation); return false; }
            await call(db).WaitAsync(timeBox, _time).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            if (ShouldLog()) Log.Failed(_logger, operation, ex.Message);
            return false;
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
        [LoggerMessage(2001, LogLevel.Warning, "Redis {Operation} failed: {Error}", EventName = "RedisFailed")]
        public static partial void Failed(ILogger logger, string operation, string error);

        [LoggerMessage(2002, LogLevel.Warning, "Redis unavailable; skipped {Operation}", EventName = "RedisUnavailable")]
        public static partial void Unavailable(ILogger logger, string operation);
    }
}
