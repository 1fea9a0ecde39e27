using System.Collections.Concurrent;
using System.Net;
using Gateway.RateLimiting;
using Microsoft.Extensions.Options;

namespace Gateway.Sessions;

/// <summary>
/// Bounds the backend work a client can cause with tokens nobody knows. A lookup that must go to the backend first
/// takes one unit of its client's budget (<see cref="TryAcquire"/>); a lookup that finds a valid session, or that fails
/// for reasons of the gateway or backend, gives it back (<see cref="Refund"/>). So only lookups that found no session
/// spend the budget, and concurrent lookups cannot overdraw it. Requests answered from L1 or Redis never reach this
/// class: a flood does not touch valid sessions cached there, from any address.
/// Local to the instance (no Redis round trip before each introspection; see docs/gateway.md for the trade-off).
/// </summary>
internal sealed class InvalidTokenBudget
{
    private static readonly IPAddress UnknownClient = IPAddress.IPv6None;
    private readonly ConcurrentDictionary<IPAddress, Bucket> _clients = new();
    // Kept beside the dictionary: ConcurrentDictionary.Count takes every one of its locks (~18 µs at 10,000 clients),
    // and a flood of unknown tokens from many addresses asks on every request.
    private int _count;
    private readonly Bucket _overflow;
    private readonly ClientIpResolver _clientIp;
    private readonly TimeProvider _time;
    private readonly bool _enabled;
    private readonly double _capacity;
    private readonly double _unitsPerTick;
    private readonly int _maxClients;
    private readonly int _ipv6PrefixLength;
    private long _lastSweepTicks;

    public InvalidTokenBudget(IOptions<InvalidTokenBudgetOptions> options, ClientIpResolver clientIp, TimeProvider time)
    {
        var o = options.Value;
        _enabled = o.Enabled;
        _capacity = o.Limit;
        _unitsPerTick = o.Limit / (double)o.Window.Ticks;
        _maxClients = o.MaxClients;
        _ipv6PrefixLength = o.Ipv6PrefixLength;
        _clientIp = clientIp;
        _time = time;
        _overflow = new Bucket(_capacity, time.GetUtcNow().UtcTicks);
    }

    /// <summary>Clients currently tracked (tests, status).</summary>
    public int TrackedClients => Volatile.Read(ref _count);

    /// <summary>The budget key of the request's client (IPv6 by prefix), or null when the budget is disabled.</summary>
    public IPAddress? ClientOf(HttpContext context)
    {
        if (!_enabled) return null;
        var ip = _clientIp.Resolve(context);
        if (ip is null) return UnknownClient;
        return Gateway.Contracts.ClientNetworks.NetworkOf(ip, _ipv6PrefixLength);
    }

    /// <summary>Takes one unit of <paramref name="client"/>'s budget; when none is left, says when one will be.</summary>
    public bool TryAcquire(IPAddress client, out TimeSpan retryAfter)
    {
        long now = _time.GetUtcNow().UtcTicks;
        var bucket = BucketOf(client, now);
        lock (bucket)
        {
            bucket.Refill(now, _capacity, _unitsPerTick);
            if (bucket.Units >= 1)
            {
                bucket.Units -= 1;
                retryAfter = TimeSpan.Zero;
                return true;
            }
            retryAfter = TimeSpan.FromTicks((long)Math.Ceiling((1 - bucket.Units) / _unitsPerTick));
            return false;
        }
    }

    /// <summary>Gives back a unit taken by <see cref="TryAcquire"/> for a lookup that did not count as a failure.</summary>
    public void Refund(IPAddress? client)
    {
        if (client is null) return;
        if (!_clients.TryGetValue(client, out var bucket))
        {
            // Not tracked: either it shares the overflow budget (the table is full), or its bucket was swept as full.
            if (TrackedClients < _maxClients) return;
            bucket = _overflow;
        }
        lock (bucket) bucket.Units = Math.Min(_capacity, bucket.Units + 1);
    }

    private Bucket BucketOf(IPAddress client, long now)
    {
        if (_clients.TryGetValue(client, out var bucket)) return bucket;
        if (TrackedClients >= _maxClients && !SweepFull(now)) return _overflow;
        var created = new Bucket(_capacity, now);
        while (true)
        {
            if (_clients.TryAdd(client, created))
            {
                Interlocked.Increment(ref _count);
                return created;
            }
            if (_clients.TryGetValue(client, out bucket)) return bucket;   // another request added it first
        }
    }

    /// <summary>
    /// Forgets clients whose budget has refilled (they are indistinguishable from new ones). At most once a second, so a
    /// full table of active clients does not cost a scan per lookup. Returns whether there is room now.
    /// </summary>
    private bool SweepFull(long now)
    {
        long last = Interlocked.Read(ref _lastSweepTicks);
        if (now - last >= TimeSpan.TicksPerSecond && Interlocked.CompareExchange(ref _lastSweepTicks, now, last) == last)
        {
            foreach (var (key, bucket) in _clients)
            {
                bool full;
                lock (bucket)
                {
                    bucket.Refill(now, _capacity, _unitsPerTick);
                    full = bucket.Units >= _capacity;
                }
                if (full && _clients.TryRemove(new KeyValuePair<IPAddress, Bucket>(key, bucket))) Interlocked.Decrement(ref _count);
            }
        }
        return TrackedClients < _maxClients;
    }

    private sealed class Bucket(double units, long updatedTicks)
    {
        public double Units = units;
        private long _updatedTicks = updatedTicks;

        public void Refill(long now, double capacity, double unitsPerTick)
        {
            if (now <= _updatedTicks) return;
            Units = Math.Min(capacity, Units + (now - _updatedTicks) * unitsPerTick);
            _updatedTicks = now;
        }
    }
}
