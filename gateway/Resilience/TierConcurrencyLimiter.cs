using System.Collections.Frozen;
using System.Diagnostics.Metrics;
using Gateway.Pipeline;
using Microsoft.Extensions.Options;

namespace Gateway.Resilience;

/// <summary>
/// Load shedding per tier: each tier has its own in-flight counter, so a flood in <c>standard</c> cannot take the
/// slots of <c>critical-auth</c>. No queue: over the limit the request gets 503 with <c>Retry-After</c> at once.
/// Runs after classification (it reads <see cref="GatewayRequestFeature.Tier"/>); health is answered before it.
/// </summary>
internal sealed class TierConcurrencyLimiter
{
    private readonly RequestDelegate _next;
    private readonly FrozenDictionary<string, TierSlot> _tiers;
    private readonly string _retryAfter;
    private readonly Counter<long> _shed;

    public TierConcurrencyLimiter(RequestDelegate next, IOptions<TierLoadSheddingOptions> options, IMeterFactory? meterFactory = null)
    {
        _next = next;
        var slots = new Dictionary<string, TierSlot>(StringComparer.OrdinalIgnoreCase);
        foreach (var (tier, limit) in options.Value.MaxConcurrency)
            if (limit > 0) slots[tier] = new TierSlot(tier, limit);
        _tiers = slots.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        _retryAfter = options.Value.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var meter = meterFactory?.Create("Gateway") ?? new Meter("Gateway");
        _shed = meter.CreateCounter<long>("gateway.loadshed.rejections", description: "Requests shed because their tier was at its concurrency limit.");
    }

    public Task Invoke(HttpContext context)
    {
        var tier = GatewayRequestFeature.Of(context)?.Tier;
        if (tier is null || !_tiers.TryGetValue(tier, out var slot)) return _next(context);

        if (Interlocked.Increment(ref slot.InFlight) > slot.Limit)
        {
            Interlocked.Decrement(ref slot.InFlight);
            _shed.Add(1, new KeyValuePair<string, object?>("tier", slot.Name));
            return ShedAsync(context);
        }
        return InvokeWithSlotAsync(context, slot);
    }

    private async Task InvokeWithSlotAsync(HttpContext context, TierSlot slot)
    {
        try { await _next(context); }
        finally { Interlocked.Decrement(ref slot.InFlight); }
    }

    private Task ShedAsync(HttpContext context)
    {
        GatewayRequestFeature.Of(context)!.Shed = true;
        context.Response.Headers.RetryAfter = _retryAfter;
        return GatewayProblems.Overloaded.WriteAsync(context);
    }

    /// <summary>Current in-flight count of a tier (tests, status endpoint).</summary>
    internal int InFlight(string tier) => _tiers.TryGetValue(tier, out var slot) ? Volatile.Read(ref slot.InFlight) : 0;

    private sealed class TierSlot(string name, int limit)
    {
        public readonly string Name = name;
        public readonly int Limit = limit;
        public int InFlight;
    }
}
