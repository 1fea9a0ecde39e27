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
/// Past the table's size, new keys share <see cref="OverflowCounters"/> counters, picked by the process's randomised
/// string hash. They were not counted at all: a run over about 100,000 emails (a /48 of IPv6 through the gateway's
/// per-address limit) filled the table, and from then on the per-account, per-address and password-change budgets were
/// off for everyone the table did not know. Shared, a counter may refuse a stranger's attempt once the attackers'
/// failures in it reach the budget; at a few failures per counter per window (100,000 spread over 65,536) that
/// mostly does not happen, and an attacker cannot aim at one account's counter without knowing the process's hash seed.
/// The address is checked before the account, so an attempt the address budget refuses creates no account key.
/// </para>
/// <para>
/// A login with a valid device token (<see cref="Gateway.Trust.LoginDeviceTokens"/>) is checked against its device's
/// failures instead of the account's: anyone who knows an email can exhaust the account's budget, which then stops only
/// clients that never signed in to it. Its failures still count for the account and the address too, and a device gets
/// the same budget as an account, and all devices of an account together a larger one (<see cref="LoginThrottleOptions.MaxDeviceFailuresPerAccount"/>),
/// which only token holders can spend: so several stolen tokens buy a bounded number of guesses.
/// </para>
/// <para>
/// An attempt counts from its start: <see cref="BeginLogin"/> reserves it on every key it is checked against, until its
/// outcome is recorded and the <see cref="Attempt"/> disposed. Checked first and counted after the ~40 ms password
/// verification, ten attempts sent at once all passed a budget of five.
/// </para>
/// </summary>
internal sealed partial class LoginThrottle(IOptions<LoginThrottleOptions> options, TimeProvider time, ILogger<LoginThrottle> logger)
{
    internal sealed class Counter { public long WindowStart; public int Failures; public int Pending; }
    private readonly ConcurrentDictionary<string, Counter> _counters = new(StringComparer.Ordinal);
    private readonly LoginThrottleOptions _o = options.Value;
    private int _count;
    private long _nextSweepTicks;
    private long _nextFullLogTicks;
    private int _sweeps;
    /// <summary>Counters shared by keys past <see cref="LoginThrottleOptions.MaxTrackedKeys"/> (created when first needed).</summary>
    internal const int OverflowCounters = 65_536;
    private Counter?[]? _overflow;

    /// <summary>Keys (accounts, addresses and devices) with a failure window (tests).</summary>
    internal int TrackedKeys => Volatile.Read(ref _count);

    /// <summary>The table's own count, which takes every lock (tests: <see cref="TrackedKeys"/> must equal it).</summary>
    internal int EntriesInTable => _counters.Count;

    /// <summary>Sweeps of a full table so far (tests: not one per attempt).</summary>
    internal int Sweeps => Volatile.Read(ref _sweeps);

    /// <summary>How long the caller must wait, or null when an attempt could proceed now: <see cref="BeginLogin"/>'s check, reserving nothing (tests).</summary>
    /// <param name="deviceId">A verified device token's id: its failures are checked instead of the account's.</param>
    internal TimeSpan? RetryAfter(string normalizedEmail, string? ip, string? deviceId = null)
    {
        using var attempt = BeginLogin(normalizedEmail, ip, deviceId, out var wait);
        return wait;
    }

    /// <summary>
    /// Starts a login attempt: null <paramref name="retryAfter"/> when it may proceed, and then it counts against the
    /// account (or device) and address budgets until the returned attempt is disposed, after its failure is recorded
    /// (<see cref="RecordFailure"/>) or its success (<see cref="RecordSuccess"/>).
    /// </summary>
    public Attempt BeginLogin(string normalizedEmail, string? ip, string? deviceId, out TimeSpan? retryAfter) =>
        Begin(deviceId is null ? "a:" + normalizedEmail : "d:" + deviceId, _o.MaxFailuresPerAccount,
            deviceId is null ? null : "ad:" + normalizedEmail, _o.MaxDeviceFailuresPerAccount, ip, out retryAfter);

    /// <summary>As <see cref="BeginLogin"/>, for a current-password check at <c>PUT /users/password</c>.</summary>
    public Attempt BeginPasswordChange(Guid userId, string? ip, out TimeSpan? retryAfter) =>
        Begin(UserKey(userId), _o.MaxFailuresPerAccount, null, 0, ip, out retryAfter);

    private Attempt Begin(string key, int max, string? key2, int max2, string? ip, out TimeSpan? retryAfter)
    {
        long now = time.GetUtcNow().UtcTicks;
        var attempt = new Attempt();
        // The address first: an attempt its budget refuses must not leave an account key behind (table space).
        retryAfter = ip is null ? null : Reserve(AddressKey(ip), _o.MaxFailuresPerIp, now, attempt);
        if (retryAfter is null) retryAfter = Reserve(key, max, now, attempt);
        if (retryAfter is null && key2 is not null) retryAfter = Reserve(key2, max2, now, attempt);
        if (retryAfter is not null) attempt.Dispose();
        return attempt;
    }

    /// <summary>Counts an attempt in flight on <paramref name="key"/>; the wait instead when its budget is spent.</summary>
    private TimeSpan? Reserve(string key, int max, long now, Attempt attempt)
    {
        var c = CounterFor(key, now);
        lock (c)
        {
            long end = c.WindowStart + _o.Window.Ticks;
            if (now >= end) { c.WindowStart = now; c.Failures = 0; end = now + _o.Window.Ticks; }
            if (c.Failures >= max) return TimeSpan.FromTicks(end - now);
            // Spent by attempts still being verified: they end within a second, as failures or not.
            if (c.Failures + c.Pending >= max) return TimeSpan.FromSeconds(1);
            c.Pending++;
        }
        attempt.Hold(c);
        return null;
    }

    /// <summary>A started attempt; disposing it (after its outcome is recorded) ends its reservation.</summary>
    internal sealed class Attempt : IDisposable
    {
        private List<Counter>? _held = new(3);

        public void Hold(Counter c) => _held!.Add(c);

        public void Dispose()
        {
            var held = Interlocked.Exchange(ref _held, null);
            if (held is null) return;
            foreach (var c in held) lock (c) c.Pending--;
        }
    }

    /// <summary>An IPv6 client's failures count for its network: it could otherwise try from another address each time.</summary>
    private string AddressKey(string ip) => "ip:" + Gateway.Contracts.ClientNetworks.KeyOf(ip, _o.Ipv6PrefixLength);


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
    /// and per address. Not through the login's keys with a made-up email: a login may name any string as its
    /// email, so strangers could spend that account key (the user id is visible to every co-member).
    /// </summary>
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

    /// <summary>The key's counter, created when missing; a shared overflow counter when the table is full.</summary>
    private Counter CounterFor(string key, long now)
    {
        if (_counters.TryGetValue(key, out var c)) return c;
        if (TrackedKeys >= _o.MaxTrackedKeys) Sweep(now);
        if (TrackedKeys >= _o.MaxTrackedKeys)
        {
            if (Once(ref _nextFullLogTicks, now, TimeSpan.FromMinutes(1))) Log.Full(logger, _o.MaxTrackedKeys, OverflowCounters);
            return Overflow(key);
        }
        var created = new Counter();
        if (_counters.TryAdd(key, created)) { Interlocked.Increment(ref _count); return created; }
        return _counters.TryGetValue(key, out c) ? c : Overflow(key);   // added and removed meanwhile
    }

    /// <summary>The overflow counter of a key: string hashes are seeded per process, so outsiders cannot pick one.</summary>
    internal Counter Overflow(string key)
    {
        var table = Volatile.Read(ref _overflow) ?? Interlocked.CompareExchange(ref _overflow, new Counter?[OverflowCounters], null) ?? _overflow!;
        int slot = (int)((uint)key.GetHashCode() % OverflowCounters);
        return Volatile.Read(ref table[slot]) ?? Interlocked.CompareExchange(ref table[slot], new Counter(), null) ?? table[slot]!;
    }

    private void Increment(string key, long now)
    {
        var c = CounterFor(key, now);
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
            if (now >= c.WindowStart + _o.Window.Ticks && Volatile.Read(ref c.Pending) == 0
                && _counters.TryRemove(new KeyValuePair<string, Counter>(key, c))) Interlocked.Decrement(ref _count);
    }

    /// <summary>True for one caller per <paramref name="interval"/>: the first to move <paramref name="next"/> on.</summary>
    private static bool Once(ref long next, long now, TimeSpan interval)
    {
        long due = Interlocked.Read(ref next);
        return now >= due && Interlocked.CompareExchange(ref next, now + interval.Ticks, due) == due;
    }

    private static partial class Log
    {
        [LoggerMessage(4001, LogLevel.Warning, "Login throttle is tracking {Max} keys; new keys share {Overflow} overflow counters until windows expire", EventName = "LoginThrottleFull")]
        public static partial void Full(ILogger logger, int max, int overflow);
    }
}
