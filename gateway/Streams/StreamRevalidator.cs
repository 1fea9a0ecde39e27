using Gateway.Routing;
using Gateway.Sessions;
using Microsoft.Extensions.Options;

namespace Gateway.Streams;

/// <summary>
/// Every <see cref="StreamOptions.RevalidateInterval"/>, validates the session of each open stream again through the
/// same <see cref="SessionValidator"/> requests use, and closes the streams of sessions that are now invalid (revoked
/// with the pub/sub message lost, or expired while the stream was open) or whose selected organisation no longer
/// admits them. A session nobody can vouch for right now (Redis and backend failing) keeps its streams: closing every
/// stream during a backend outage would only send all clients back at a backend that is down.
/// </summary>
internal sealed partial class StreamRevalidator(StreamRegistry registry, SessionValidator validator, IOptions<StreamOptions> options,
    TimeProvider time, ILogger<StreamRevalidator> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.RevalidateInterval;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, time, stoppingToken).ConfigureAwait(false);
                await RevalidateAsync().ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { return; }
            catch (Exception ex) { Log.Failed(logger, ex); }
        }
    }

    /// <summary>One pass over the open streams; returns how many it closed.</summary>
    internal async Task<int> RevalidateAsync()
    {
        var streams = registry.Snapshot();
        if (streams.Length == 0) return 0;
        int closed = 0;
        // One validation per session, however many streams it holds.
        foreach (var group in streams.Where(s => s.SessionHash is not null).GroupBy(s => s.SessionHash!, StringComparer.Ordinal))
        {
            if (!TokenHash.TryParseHex(group.Key, out var hash)) continue;
            var first = group.First();
            var result = await validator.RevalidateAsync(hash, first.RouteClass).ConfigureAwait(false);
            if (result.Outcome == SessionOutcome.Invalid)
            {
                closed += registry.Close([.. group], "session-invalid");
                continue;
            }
            if (result.Outcome != SessionOutcome.Valid) continue;
            List<OpenStream>? lost = null;
            foreach (var stream in group)
                if (!StillAdmitted(stream, result.Principal!)) (lost ??= []).Add(stream);
            if (lost is not null) closed += registry.Close(lost, "membership-changed");
        }
        if (closed > 0) Log.Closed(logger, closed);
        return closed;
    }

    /// <summary>The organisation the stream selected is still the principal's, with a role the class accepts.</summary>
    internal static bool StillAdmitted(OpenStream stream, Gateway.Contracts.SessionPrincipal principal)
    {
        if (stream.OrgId is null) return stream.RouteClass.Auth != AuthKind.Role;
        foreach (var membership in principal.Orgs)
            if (string.Equals(membership.Id, stream.OrgId, StringComparison.OrdinalIgnoreCase))
                return stream.RouteClass.Auth != AuthKind.Role || OrgRoles.Parse(membership.Role) >= stream.RouteClass.MinimumRole;
        return false;
    }

    private static partial class Log
    {
        [LoggerMessage(4302, LogLevel.Information, "Closed {Count} open stream(s) whose session is no longer valid.", EventName = "StreamsRevalidated")]
        public static partial void Closed(ILogger logger, int count);

        [LoggerMessage(4303, LogLevel.Error, "Revalidating the sessions of open streams failed; the next pass retries.", EventName = "StreamRevalidationFailed")]
        public static partial void Failed(ILogger logger, Exception exception);
    }
}
