using Gateway.Contracts;
using Gateway.Sessions;

namespace Gateway.Streams;

/// <summary>
/// Closes open streams when the backend revokes their session: the same pub/sub message that evicts L1 reaches every
/// instance, so each closes its own streams at once. <c>session</c> closes that session's streams; <c>user</c> (logout
/// everywhere, password change, membership change) every stream of the user. <c>org</c> and <c>user-data</c> concern
/// cached responses only.
/// </summary>
internal sealed partial class StreamRevocation(IInvalidationBus bus, StreamRegistry registry, ILogger<StreamRevocation> logger)
    : InvalidationHandler(bus)
{
    public const string Reason = "revoked";

    internal override void OnInvalidated(InvalidationMessage message)
    {
        int closed = message.Kind switch
        {
            InvalidationMessage.KindSession when message.SessionHash is { } hash => registry.CloseSession(hash.ToLowerInvariant(), Reason),
            InvalidationMessage.KindUser when message.UserId is { } user => registry.CloseUser(user, Reason),
            _ => 0,
        };
        if (closed > 0) Log.Closed(logger, closed, message.Kind);
    }

    private static partial class Log
    {
        [LoggerMessage(4301, LogLevel.Debug, "Closed {Count} open stream(s) of a revoked {Kind}.", EventName = "StreamsRevoked")]
        public static partial void Closed(ILogger logger, int count, string kind);
    }
}
