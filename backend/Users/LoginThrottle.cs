using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Backend.Users;

/// <summary>
/// Fixed-window failure counters keyed by normalised email and by client IP. In-process only: the gateway's
/// distributed rate limiter covers several backend instances. Memory is bounded by <see cref="LoginThrottleOptions.MaxTrackedKeys"/>.
/// A full table (a credential-stuffing run over many accounts) is swept for expired windows at most once a second and
/// says so in the log at most once a minute: both happened on every failed attempt with a new key. The count is kept
/// beside the dictionary, whose own <c>Count</c> takes every one of its locks.
/// <para>
/// A login with a valid device token (<see cref="Gateway.Trust.LoginDeviceTokens"/>) is checked against its device's
/// failures instead of the account's: anyone who knows an email can exhaust the account's budget, which then stops only
/// clients that never signed in to it. Its failures still count for the account and the address too, and a device gets
/// the same budget as an account, and all devices of an account together a larger one (<see cref="LoginThrottleOptions.MaxDeviceFailuresPerAccount"/>),
/// which only token holders can spend: so several stolen tokens buy a bounded number of guesses.
/// </para>
/// </summary>
internal sealed partial class LoginThrottle(IOptions<LoginThrottleOptions> options, TimeProvider time, ILogger<LoginThrottle> logger)
{
    private sealed class Counter { public long WindowStart; public int Failures; }
    private readonly ConcurrentDictionary<string, Counter> _counters = new(StringComparer.Ordinal);
    private readonly LoginThrottleOptions _o = options.Value;
    private int _count;
    private long _nextSweepTicks;
    private long _nextFullLogTicks;
    private int _sweeps;

    /// <summary>Keys (accounts, addresses and devices) with a failure window (tests).</summary>
    internal int TrackedKeys => Volatile.Read(ref _count);

    /// <summary>The table's own count, which takes every lock (tests: <see cref="TrackedKeys"/> must equal it).</summary>
    internal int EntriesInTable => _counters.Count;

    /// <summary>Sweeps of a full table so far (tests: not one per attempt).</summary>
    internal int Sweeps => Volatile.Read(ref _sweeps);

    /// <summary>How long the caller must wait, or null when the attempt may proceed.</summary>
    /// <param name="deviceId">A verified device token's id: its failures are checked instead of the account's.</param>
    public TimeSpan? RetryAfter(string normalizedEmail, string? ip, string? deviceId = null)
    {
        long now = time.GetUtcNow().UtcTicks;
        var a = deviceId is null
            ? Blocked("a:" + normalizedEmail, _o.MaxFailuresPerAccount, now)
            : Later(Blocked("d:" + deviceId, _o.MaxFailuresPerAccount, now), Blocked("ad:" + normalizedEmail, _o.MaxDeviceFailuresPerAccount, now));
        var b = ip is null ? null : Blocked(AddressKey(ip), _o.MaxFailuresPerIp, now);
        return Later(a, b);
    }

    /// <summary>An IPv6 client's failures count for its network: it could otherwise try from another address each time.</summary>
    private string AddressKey(string ip) => "ip:" + Gateway.Contracts.ClientNetworks.KeyOf(ip, _o.Ipv6PrefixLength);

    private static TimeSpan? Later(TimeSpan? a, TimeSpan? b) => a is null ? b : b is null ? a : (a > b ? a : b);

    public void RecordFailure(string normalizedEmail, string? ip, string? deviceId = null)
    {
        long now = time.GetUtcNow().UtcTicks;
        Increment("a:" + normalizedEmail, now);
        if (ip is not null) Increment(AddressKey(ip), now);
        if (deviceId is null) return;
        Increment("d:" + deviceId, now);
        Increment("ad:" + normalizedEmail, now);   // all of the account's devices together: not cleared by a success
    }

    /// <summary>
    /// Wrong current passwords at <c>PUT /users/password</c>: counted per user id in a key space of their own ("u:"),
    /// and per address. Not through <see cref="RetryAfter"/> with a made-up email: a login may name any string as its
    /// email, so strangers could spend that account key (the user id is visible to every co-member).
    /// </summary>
    public TimeSpan? PasswordChangeRetryAfter(Guid userId, string? ip)
    {
        long now = time.GetUtcNow().UtcTicks;
        return Later(Blocked(UserKey(userId), _o.MaxFailuresPerAccount, now), ip is null ? null : Blocked(AddressKey(ip), _o.MaxFailuresPerIp, now));
    }

    public void RecordPasswordChangeFailure(Guid userId, string? ip)
    {
        long now = time.GetUtcNow().UtcTicks;
        Increment(UserKey(userId), now);
        if (ip is not null) Increment(AddressKey(ip), now);
    }

    private static string UserKey(Guid userId) => "u:" + userId.ToString("N");

    /// <summary>
    /// Clears the failures the success answers for: the device's own, or without one the account's. A device's success
    /// leaves the account's count alone, or the owner signing in would hand strangers a fresh budget each time.
    /// </summary>
    public void RecordSuccess(string normalizedEmail, string? deviceId = null) =>
        Forget(deviceId is null ? "a:" + normalizedEmail : "d:" + deviceId);

    private void Forget(string key)
    {
        if (_counters.TryRemove(key, out _)) Interlocked.Decrement(ref _count);
    }

    private TimeSpan? Blocked(string key, int max, long now)
    {
        if (!_counters.TryGetValue(key, out var c)) return null;
        lock (c)
        {
            long end = c.WindowStart + _o.Window.Ticks;
            if (now >= end || c.Failures < max) return null;
            return TimeSpan.FromTicks(end - now);
        }
    }

    private void Increment(string key, long now)
    {
        if (!_counters.TryGetValue(key, out var c))
        {
            if (TrackedKeys >= _o.MaxTrackedKeys) Sweep(now);
            if (TrackedKeys >= _o.MaxTrackedKeys)
            {
                if (Once(ref _nextFullLogTicks, now, TimeSpan.FromMinutes(1))) Log.Full(logger, _o.MaxTrackedKeys);
                return;
            }
            var created = new Counter();
            if (_counters.TryAdd(key, created)) { Interlocked.Increment(ref _count); c = created; }
            else if (!_counters.TryGetValue(key, out c)) return;   // added and removed meanwhile: this failure goes uncounted
        }
        lock (c)
        {
            if (now >= c.WindowStart + _o.Window.Ticks) { c.WindowStart = now; c.Failures = 0; }
            c.Failures++;
        }
    }

    private void Sweep(long now)
    {
        if (!Once(ref _nextSweepTicks, now, TimeSpan.FromSeconds(1))) return;
        Interlocked.Increment(ref _sweeps);
        foreach (var (key, c) in _counters)
            if (now >= c.WindowStart + _o.Window.Ticks && _counters.TryRemove(new KeyValuePair<string, Counter>(key, c))) Interlocked.Decrement(ref _count);
    }

    /// <summary>True for one caller per <paramref name="interval"/>: the first to move <paramref name="next"/> on.</summary>
    private static bool Once(ref long next, long now, TimeSpan interval)
    {
        long due = Interlocked.Read(ref next);
        return now >= due && Interlocked.CompareExchange(ref next, now + interval.Ticks, due) == due;
    }

    private static partial class Log
    {
        [LoggerMessage(4001, LogLevel.Warning, "Login throttle is tracking {Max} keys; new keys are not counted until windows expire", EventName = "LoginThrottleFull")]
        public static partial void Full(ILogger logger, int max);
    }
}
