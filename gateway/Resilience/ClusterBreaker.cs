using Polly.CircuitBreaker;

namespace Gateway.Resilience;

/// <summary>
/// The circuit breaker of one backend cluster, with Polly's advanced-breaker semantics: the breaker opens when, within
/// the sampling window, at least <see cref="BackendResilienceOptions.MinimumThroughput"/> calls were made and the
/// failure ratio reached <see cref="BackendResilienceOptions.FailureRatio"/>; it stays open for the break duration, then
/// lets one probe through (half-open) whose outcome closes or reopens it.
/// Written here rather than taken from Polly because every proxied request passes through it: Polly's pipeline costs three
/// async state machines, a pooled context and a timeout token source per call (about 1 KB and several microseconds per
/// request, docs/performance.md), where this costs one uncontended lock and no allocation.
/// </summary>
internal sealed class ClusterBreaker
{
    private const int Buckets = 10;
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly double _failureRatio;
    private readonly int _minimumThroughput;
    private readonly TimeSpan _breakDuration;
    private readonly long _bucketTicks;
    // The sampling window as a ring of buckets, each counting calls and failures from its start time.
    private readonly long[] _bucketStart = new long[Buckets];
    private readonly int[] _calls = new int[Buckets];
    private readonly int[] _failures = new int[Buckets];
    private int _current;
    private CircuitState _state = CircuitState.Closed;
    private DateTimeOffset _openUntil;
    private bool _probeInFlight;

    public ClusterBreaker(BackendResilienceOptions options, TimeProvider time)
    {
        _time = time;
        _failureRatio = options.FailureRatio;
        _minimumThroughput = options.MinimumThroughput;
        _breakDuration = options.BreakDuration;
        _bucketTicks = Math.Max(1, options.SamplingDuration.Ticks / Buckets);
    }

    public CircuitState State
    {
        get { lock (_lock) return _state == CircuitState.Open && _time.GetUtcNow() >= _openUntil ? CircuitState.HalfOpen : _state; }
    }

    /// <summary>
    /// May a call go to the cluster now? False while open (with the time left until a probe is allowed) and while a
    /// half-open probe is in flight. The caller must report the outcome of an admitted call with <see cref="Record"/>.
    /// </summary>
    public bool TryEnter(out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        lock (_lock)
        {
            if (_state == CircuitState.Closed) return true;
            var now = _time.GetUtcNow();
            if (_state == CircuitState.Open)
            {
                if (now < _openUntil) { retryAfter = _openUntil - now; return false; }
                _state = CircuitState.HalfOpen;
                _probeInFlight = false;
            }
            if (_probeInFlight) { retryAfter = _breakDuration; return false; }
            _probeInFlight = true;
            return true;
        }
    }

    /// <summary>Reports the outcome of an admitted call: <paramref name="failed"/> when it says the cluster cannot serve anyone.</summary>
    public void Record(bool failed)
    {
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            if (_state == CircuitState.HalfOpen)
            {
                _probeInFlight = false;
                if (failed) Open(now);
                else Close();
                return;
            }
            if (_state == CircuitState.Open) return;   // a call admitted before the breaker opened

            long ticks = now.UtcTicks;
            if (ticks - _bucketStart[_current] >= _bucketTicks)
            {
                _current = (_current + 1) % Buckets;
                _bucketStart[_current] = ticks;
                _calls[_current] = 0;
                _failures[_current] = 0;
            }
            _calls[_current]++;
            if (!failed) return;
            _failures[_current]++;

            long windowStart = ticks - _bucketTicks * Buckets;
            int calls = 0, failures = 0;
            for (int i = 0; i < Buckets; i++)
            {
                if (_bucketStart[i] <= windowStart) continue;
                calls += _calls[i];
                failures += _failures[i];
            }
            if (calls >= _minimumThroughput && failures >= _failureRatio * calls) Open(now);
        }
    }

    /// <summary>
    /// An admitted call ended without a verdict (the caller cancelled it): nothing is counted, but a half-open probe
    /// slot is freed so the next call can probe.
    /// </summary>
    public void Release()
    {
        lock (_lock) if (_state == CircuitState.HalfOpen) _probeInFlight = false;
    }

    private void Open(DateTimeOffset now)
    {
        _state = CircuitState.Open;
        _openUntil = now + _breakDuration;
    }

    private void Close()
    {
        _state = CircuitState.Closed;
        Array.Clear(_bucketStart);   // start 0: long before any window, so every bucket counts as empty
        Array.Clear(_calls);
        Array.Clear(_failures);
    }
}
