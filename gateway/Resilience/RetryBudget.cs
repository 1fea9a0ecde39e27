namespace Gateway.Resilience;

/// <summary>
/// Token bucket that caps retries at a fraction of first attempts: every attempt deposits <c>ratio</c> tokens,
/// every retry withdraws one. During a real outage retries stop amplifying load once the burst is spent.
/// </summary>
internal sealed class RetryBudget
{
    private readonly double _ratio;
    private readonly double _capacity;
    private readonly Lock _lock = new();
    private double _tokens;

    public RetryBudget(double ratio, int burst)
    {
        _ratio = ratio;
        _capacity = burst;
        _tokens = burst;
    }

    public void OnAttempt()
    {
        lock (_lock) _tokens = Math.Min(_capacity, _tokens + _ratio);
    }

    public bool TryWithdraw()
    {
        lock (_lock)
        {
            if (_tokens < 1) return false;
            _tokens -= 1;
            return true;
        }
    }
}
