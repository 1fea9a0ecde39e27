using Gateway.Resilience;
using Microsoft.Extensions.Options;

namespace Gateway.Proxy;

/// <summary>
/// Each client's request bodies being streamed to backends, against <see cref="ForwardingOptions.MaxStreamedBodiesPerClient"/>.
/// Clients are counted in the tier slots' stripes (<see cref="TierSlot.ClientStripes"/>, by address hash): two clients
/// sharing a stripe share its count, which only makes the rule stricter for them.
/// </summary>
internal sealed class StreamedBodyShare(IOptions<ForwardingOptions> options)
{
    private readonly int _max = options.Value.MaxStreamedBodiesPerClient;
    private readonly int[] _byStripe = new int[TierSlot.ClientStripes];

    /// <summary>Takes a place for the client of <paramref name="stripe"/>; false, and nothing taken, when it has its share.</summary>
    public bool TryEnter(int stripe)
    {
        if (_max == 0) return true;
        if (Interlocked.Increment(ref _byStripe[stripe]) <= _max) return true;
        Interlocked.Decrement(ref _byStripe[stripe]);
        return false;
    }

    public void Exit(int stripe)
    {
        if (_max != 0) Interlocked.Decrement(ref _byStripe[stripe]);
    }
}
