using System.Net;
using System.Text;
using Gateway.Trust;
using Microsoft.Extensions.Options;
using Gateway.Contracts;

namespace Gateway.Sessions;

internal enum IntrospectionOutcome
{
    /// <summary>200: the backend vouches for the session.</summary>
    Found,
    /// <summary>404: unknown, revoked or expired. The only outcome cached negatively.</summary>
    NotFound,
    /// <summary>Anything else (401, 5xx, timeout, breaker open): a gateway/backend problem, never cached.</summary>
    Failed,
}

internal readonly record struct IntrospectionResult(IntrospectionOutcome Outcome, SessionPrincipal? Principal, string? Json)
{
    /// <summary>Set by the session validator on an answer that an invalidation overtook while it travelled (and that was
    /// therefore not stored): it may predate a logout or a membership change.</summary>
    public bool Overtaken { get; init; }
}

/// <summary>
/// Calls the backend's internal session endpoints with <c>X-Gateway-Secret</c> = <c>Trust:InternalSecret</c> (never a signing key). A small consecutive-failure breaker
/// keeps a dead backend from costing a time-box on every request.
/// </summary>
internal sealed partial class IntrospectionClient(HttpClient http, IOptions<SessionOptions> options, IOptions<Gateway.Identity.GatewayTrustOptions> trust,
    TimeProvider time, ILogger<IntrospectionClient> logger)
{
    internal const string HttpClientName = "gateway-internal";
    private readonly SessionOptions _options = options.Value;
    private int _failures;
    private long _openUntilTicks;

    public bool IsBreakerOpen => time.GetUtcNow().UtcTicks < Interlocked.Read(ref _openUntilTicks);

    /// <param name="touch">False for a lookup that is not the user's activity (an open stream's revalidation): the
    /// backend does not slide the session's idle expiry.</param>
    public async Task<IntrospectionResult> IntrospectAsync(string tokenHashHex, CancellationToken cancellationToken, bool touch = true)
    {
        if (IsBreakerOpen) return new(IntrospectionOutcome.Failed, null, null);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(_options.IntrospectionTimeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "internal/sessions/introspect")
            {
                Content = new StringContent("{\"tokenHash\":\"" + tokenHashHex + (touch ? "\"}" : "\",\"touch\":false}"), Encoding.UTF8, "application/json"),
            };
            request.Headers.TryAddWithoutValidation(IdentityHeaders.InternalSecret, trust.Value.InternalSecret);
            using var response = await http.SendAsync(request, cts.Token).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NotFound) { Succeeded(); return new(IntrospectionOutcome.NotFound, null, null); }
            if (response.StatusCode != HttpStatusCode.OK)
            {
                Failed($"status {(int)response.StatusCode}");
                return new(IntrospectionOutcome.Failed, null, null);
            }
            string json = await response.Content.ReadAsStringAsync(cts.Token).ConfigureAwait(false);
            var principal = SessionPrincipalJson.TryParse(json);
            if (principal is null) { Failed("malformed principal JSON"); return new(IntrospectionOutcome.Failed, null, null); }
            Succeeded();
            return new(IntrospectionOutcome.Found, principal, json);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            Failed(ex.GetType().Name);
            return new(IntrospectionOutcome.Failed, null, null);
        }
    }

    /// <summary>Reports sessions served from gateway caches as active. Returns false when the backend did not accept them.</summary>
    public async Task<bool> TouchAsync(IReadOnlyList<string> tokenHashHexes, CancellationToken cancellationToken)
    {
        var sb = new StringBuilder(20 + tokenHashHexes.Count * 67).Append("{\"tokenHashes\":[");
        for (int i = 0; i < tokenHashHexes.Count; i++) sb.Append(i == 0 ? "\"" : ",\"").Append(tokenHashHexes[i]).Append('"');
        sb.Append("]}");
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(_options.IntrospectionTimeout * 2);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "internal/sessions/touch")
            {
                Content = new StringContent(sb.ToString(), Encoding.UTF8, "application/json"),
            };
            request.Headers.TryAddWithoutValidation(IdentityHeaders.InternalSecret, trust.Value.InternalSecret);
            using var response = await http.SendAsync(request, cts.Token).ConfigureAwait(false);
            return response.IsSuccessStatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            return false;
        }
    }

    private void Succeeded() => Volatile.Write(ref _failures, 0);

    private void Failed(string reason)
    {
        int failures = Interlocked.Increment(ref _failures);
        if (failures < _options.BreakerFailureThreshold) return;
        Interlocked.Exchange(ref _openUntilTicks, (time.GetUtcNow() + _options.BreakerOpenDuration).UtcTicks);
        Volatile.Write(ref _failures, 0);
        Log.BreakerOpened(logger, failures, reason);
    }

    private static partial class Log
    {
        [LoggerMessage(4001, LogLevel.Warning, "Session introspection failed {Failures} times in a row (last: {Reason}); failing fast for a while.", EventName = "IntrospectionBreakerOpened")]
        public static partial void BreakerOpened(ILogger logger, int failures, string reason);
    }
}
