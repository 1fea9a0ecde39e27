using Gateway.Contracts;
using System.Diagnostics.Metrics;
using Gateway.Redis;

namespace Gateway.Sessions;

/// <summary>
/// Listens on <c>gw:v1:invalidate</c>: evicts L1 sessions (one by hash, or all of a user), records the propagation
/// delay and tells the other components through <see cref="IInvalidationBus"/>. Unknown kinds are ignored.
/// </summary>
internal sealed partial class InvalidationSubscriber : BackgroundService, IInvalidationBus
{
    private readonly IRedisClient _redis;
    private readonly L1SessionCache _l1;
    private readonly TimeProvider _time;
    private readonly ILogger<InvalidationSubscriber> _logger;
    private readonly Histogram<double> _delay;
    private volatile bool _subscribed;

    public InvalidationSubscriber(IRedisClient redis, L1SessionCache l1, TimeProvider time, IMeterFactory meters, ILogger<InvalidationSubscriber> logger)
    {
        _redis = redis;
        _l1 = l1;
        _time = time;
        _logger = logger;
        _delay = meters.Create("Gateway").CreateHistogram<double>("gateway.invalidation.delay", "s",
            "Time from the backend publishing an invalidation to this gateway applying it.");
        // Messages published while the subscription was lost never arrive: any session L1 holds may have been revoked
        // meanwhile. Dropped, they are looked up again in Redis (which the revocations did reach) or the backend.
        _redis.SubscriptionRestored += () =>
        {
            _l1.InvalidateAll();
            Interlocked.Increment(ref _restorations);
        };
    }

    private int _restorations;

    /// <summary>How many times the subscription came back after losing its connection (and L1 was dropped).</summary>
    public int Restorations => Volatile.Read(ref _restorations);

    public event Action<InvalidationMessage>? Invalidated;

    /// <summary>True once the subscription was established (the library re-subscribes after reconnects).</summary>
    public bool IsSubscribed => _subscribed;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _redis.SubscribeAsync(SessionRedisContract.InvalidationChannel, Handle).ConfigureAwait(false);
                _subscribed = true;
                return;
            }
            catch (OperationCanceledException) { return; }
            catch (Exception ex)
            {
                Log.SubscribeFailed(_logger, ex.Message);
                try { await Task.Delay(TimeSpan.FromSeconds(1), _time, stoppingToken).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
            }
        }
    }

    internal void Handle(string payload)
    {
        var message = InvalidationMessage.TryParse(payload);
        if (message is null) { Log.Malformed(_logger); return; }
        switch (message.Kind)
        {
            case InvalidationMessage.KindSession:
                if (TokenHash.TryParseHex(message.SessionHash, out var hash)) _l1.Invalidate(hash);
                break;
            case InvalidationMessage.KindUser:
                if (message.UserId is not null) _l1.InvalidateUser(message.UserId);
                break;
            case InvalidationMessage.KindUserData:
            case InvalidationMessage.KindOrg:
                break;
            default:
                return;
        }
        if (message.At > 0)
            _delay.Record(Math.Max(0, (_time.GetUtcNow().ToUnixTimeMilliseconds() - message.At) / 1000.0),
                new KeyValuePair<string, object?>("kind", message.Kind));
        try { Invalidated?.Invoke(message); }
        catch (Exception ex) { Log.HandlerFailed(_logger, ex); }
    }

    private static partial class Log
    {
        [LoggerMessage(4201, LogLevel.Warning, "Could not subscribe to the invalidation channel yet: {Message}", EventName = "InvalidationSubscribeFailed")]
        public static partial void SubscribeFailed(ILogger logger, string message);

        [LoggerMessage(4202, LogLevel.Warning, "Ignored a malformed invalidation message.", EventName = "InvalidationMalformed")]
        public static partial void Malformed(ILogger logger);

        [LoggerMessage(4203, LogLevel.Error, "An invalidation handler failed.", EventName = "InvalidationHandlerFailed")]
        public static partial void HandlerFailed(ILogger logger, Exception exception);
    }
}
