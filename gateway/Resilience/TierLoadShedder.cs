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
    private readonly Counter<long> _clientRefusals;
    private readonly RateLimiting.ClientIpResolver? _clientIp;

    public TierLoadShedder(IOptions<TierLoadSheddingOptions> options, IMeterFactory? meterFactory = null, RateLimiting.ClientIpResolver? clientIp = null)
    {
        _clientIp = clientIp;
        var slots = new Dictionary<string, TierSlot>(StringComparer.OrdinalIgnoreCase);
        foreach (var (tier, limit) in options.Value.MaxConcurrency)
            if (limit > 0) slots[tier] = new TierSlot(tier, limit);
        _tiers = slots.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        _retryAfter = options.Value.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var meter = meterFactory?.Create("Gateway") ?? new Meter("Gateway");
        _shed = meter.CreateCounter<long>("gateway.loadshed.rejections", description: "Requests shed because their tier was at its concurrency limit.");
        _clientRefusals = meter.CreateCounter<long>("gateway.loadshed.client_rejections",
            description: "Requests refused because their client already held its share of a busy tier's slots.");
    }

    /// <summary>The tier's slot counter; null for a tier without a limit (or a request never classified).</summary>
    public TierSlot? SlotOf(string? tier) => tier is not null && _tiers.TryGetValue(tier, out var slot) ? slot : null;

    /// <summary>The stripe of the request's client, for <see cref="TierSlot.TryEnter"/>.</summary>
    public int StripeOf(HttpContext context) => _clientIp is null
        ? TierSlot.StripeOf(context.Connection.RemoteIpAddress)
        : TierSlot.StripeOfHash(_clientIp.NetworkHash(context));   // an IPv6 client's network, so it holds one share, not one per address

    /// <summary>The 429 for a client holding its share of a busy tier.</summary>
    public Task RefuseClientAsync(HttpContext context, TierSlot slot)
    {
        _clientRefusals.Add(1, new KeyValuePair<string, object?>("tier", slot.Name));
        context.Response.Headers.RetryAfter = _retryAfter;
        return GatewayProblems.TooManyInFlight.WriteAsync(context);
    }

    /// <summary>The 503 for a request its tier had no slot for.</summary>
    public Task ShedAsync(HttpContext context, TierSlot slot)
    {
        _shed.Add(1, new KeyValuePair<string, object?>("tier", slot.Name));
        GatewayRequestFeature.Of(context)!.Shed = true;
        context.Response.Headers.RetryAfter = _retryAfter;
        return GatewayProblems.Overloaded.WriteAsync(context);
    }
}

/// <summary>
/// One tier's in-flight count against its limit, and each client's part of it. One client (an address, as the gateway
/// determines it: <see cref="RateLimiting.ClientIpResolver"/>) must not hold the slots every other client depends on:
/// an adversarial review filled <c>critical-auth</c> with one user's stalled uploads and locked everyone out of login.
/// So once the tier is half full, a client holding a quarter of its limit (at least 16) is refused more. Below half
/// nothing is refused for being one client: a benchmark or a NAT from one address runs up to the tier's limit while
/// nobody else needs the slots. Clients are counted in 1,024 stripes by address hash (two clients sharing a stripe
/// share its count, which only makes the rule stricter for them).
/// </summary>
internal sealed class TierSlot(string name, int limit)
{
    public const int ClientStripes = 1024;

    public readonly string Name = name;
    public readonly int Limit = limit;
    public int InFlight;
    private readonly int _pressure = limit / 2;
    private readonly int _clientShare = Math.Max(16, limit / 4);
    private readonly int[] _byClient = new int[ClientStripes];

    /// <summary>The stripe of a client address (null: one stripe for requests without one).</summary>
    public static int StripeOf(System.Net.IPAddress? client) => client is null ? 0 : (client.GetHashCode() & int.MaxValue) % ClientStripes;

    /// <summary>The stripe of a client network's hash (<see cref="RateLimiting.ClientIpResolver.NetworkHash"/>).</summary>
    public static int StripeOfHash(int networkHash) => (networkHash & int.MaxValue) % ClientStripes;

    /// <summary>Takes a slot for the client of <paramref name="stripe"/>; nothing is taken when it refuses.</summary>
    public Admission TryEnter(int stripe)
    {
        int inFlight = Interlocked.Increment(ref InFlight);
        if (inFlight > Limit)
        {
            Interlocked.Decrement(ref InFlight);
            return Admission.TierFull;
        }
        if (Interlocked.Increment(ref _byClient[stripe]) > _clientShare && inFlight > _pressure)
        {
            Interlocked.Decrement(ref _byClient[stripe]);
            Interlocked.Decrement(ref InFlight);
            return Admission.ClientOverShare;
        }
        return Admission.Admitted;
    }

    public void Exit(int stripe)
    {
        Interlocked.Decrement(ref _byClient[stripe]);
        Interlocked.Decrement(ref InFlight);
    }

    public enum Admission { Admitted, TierFull, ClientOverShare }
}
