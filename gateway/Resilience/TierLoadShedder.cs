using System.Collections.Frozen;
using System.Diagnostics.Metrics;
using Gateway.Pipeline;
using Microsoft.Extensions.Options;

namespace Gateway.Resilience;

/// <summary>
/// Load shedding per tier: each tier has its own in-flight counter, so a flood in <c>standard</c> cannot take the
/// slots of <c>critical-auth</c>. No queue: over the limit the request gets 503 with <c>Retry-After</c> at once.
/// <see cref="AdmissionMiddleware"/> takes and returns the slots, after classification (it reads
/// <see cref="GatewayRequestFeature.Tier"/>); health is answered before it.
/// </summary>
internal sealed class TierLoadShedder
{
    private readonly FrozenDictionary<string, TierSlot> _tiers;
    private readonly string _retryAfter;
    private readonly Counter<long> _shed;

    public TierLoadShedder(IOptions<TierLoadSheddingOptions> options, IMeterFactory? meterFactory = null)
    {
        var slots = new Dictionary<string, TierSlot>(StringComparer.OrdinalIgnoreCase);
        foreach (var (tier, limit) in options.Value.MaxConcurrency)
            if (limit > 0) slots[tier] = new TierSlot(tier, limit);
        _tiers = slots.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        _retryAfter = options.Value.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var meter = meterFactory?.Create("Gateway") ?? new Meter("Gateway");
        _shed = meter.CreateCounter<long>("gateway.loadshed.rejections", description: "Requests shed because their tier was at its concurrency limit.");
    }

    /// <summary>The tier's slot counter; null for a tier without a limit (or a request never classified).</summary>
    public TierSlot? SlotOf(string? tier) => tier is not null && _tiers.TryGetValue(tier, out var slot) ? slot : null;

    /// <summary>The 503 for a request its tier had no slot for.</summary>
    public Task ShedAsync(HttpContext context, TierSlot slot)
    {
        _shed.Add(1, new KeyValuePair<string, object?>("tier", slot.Name));
        GatewayRequestFeature.Of(context)!.Shed = true;
        context.Response.Headers.RetryAfter = _retryAfter;
        return GatewayProblems.Overloaded.WriteAsync(context);
    }
}

/// <summary>One tier's in-flight count against its limit.</summary>
internal sealed class TierSlot(string name, int limit)
{
    public readonly string Name = name;
    public readonly int Limit = limit;
    public int InFlight;

    /// <summary>Takes a slot; false (and nothing taken) when the tier is full.</summary>
    public bool TryEnter()
    {
        if (Interlocked.Increment(ref InFlight) <= Limit) return true;
        Interlocked.Decrement(ref InFlight);
        return false;
    }

    public void Exit() => Interlocked.Decrement(ref InFlight);
}
