using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace Gateway.Resilience;

/// <summary>Breaker state of every backend cluster, for the status endpoint and metrics.</summary>
internal interface IBreakerStates
{
    /// <summary>Cluster name → state, at the moment of the call.</summary>
    IReadOnlyDictionary<string, CircuitState> Snapshot();
}

/// <summary>
/// One Polly pipeline per backend cluster, created on first use: retry (idempotent methods, connection failures only,
/// within a retry budget) → circuit breaker (connection failures, timeouts, 502/503/504: see
/// <see cref="IsBackendFailure"/>) → per-attempt timeout.
/// </summary>
internal sealed class BackendResilience : IBreakerStates
{
    internal static readonly ResiliencePropertyKey<TimeSpan> TimeoutKey = new("gateway.timeout");

    private readonly BackendResilienceOptions _options;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, ClusterPipeline> _clusters = new(StringComparer.OrdinalIgnoreCase);

    // The gateway.breaker.state gauge is owned by Observability.GatewayMetrics, fed through ResilienceBreakerStateSource.
    public BackendResilience(IOptions<BackendResilienceOptions> options, TimeProvider time)
    {
        _options = options.Value;
        _time = time;
    }

    public BackendResilienceOptions Options => _options;

    internal ClusterPipeline Get(string cluster) => _clusters.GetOrAdd(cluster, static (name, self) => self.Build(name), this);

    public IReadOnlyDictionary<string, CircuitState> Snapshot()
    {
        var result = new Dictionary<string, CircuitState>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, cluster) in _clusters) result[name] = cluster.State.CircuitState;
        return result;
    }

    private ClusterPipeline Build(string name)
    {
        var state = new CircuitBreakerStateProvider();
        var budget = new RetryBudget(_options.RetryBudgetRatio, _options.RetryBudgetBurst);
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = _time, Name = name };
        if (_options.MaxRetryAttempts > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = _options.MaxRetryAttempts,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = _options.RetryBaseDelay,
                ShouldHandle = args => new ValueTask<bool>(
                    IsConnectionFailure(args.Outcome.Exception)
                    && IsIdempotent(args.Context.OperationKey)   // the HTTP method (ResilienceHandler)
                    && budget.TryWithdraw()),
            });
        }
        builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
        {
            FailureRatio = _options.FailureRatio,
            MinimumThroughput = _options.MinimumThroughput,
            SamplingDuration = _options.SamplingDuration,
            BreakDuration = _options.BreakDuration,
            StateProvider = state,
            ShouldHandle = args => new ValueTask<bool>(args.Outcome.Exception switch
            {
                TimeoutRejectedException => true,
                HttpRequestException e => !IsClientSideFailure(e),
                null => args.Outcome.Result is { } r && IsBackendFailure(r),
                _ => false,
            }),
        });
        builder.AddTimeout(new TimeoutStrategyOptions
        {
            TimeoutGenerator = args => new ValueTask<TimeSpan>(
                args.Context.Properties.TryGetValue(TimeoutKey, out var t) && t > TimeSpan.Zero ? t : _options.DefaultTimeout),
        });
        return new ClusterPipeline(builder.Build(), state, budget);
    }

    /// <summary>
    /// Counts only answers that say the backend cannot serve anyone right now: 502, 504, and 503 without
    /// <c>Retry-After</c>. Not counted:
    /// <list type="bullet">
    /// <item>4xx: the client's fault by definition.</item>
    /// <item>503 with <c>Retry-After</c>: a healthy backend shedding one expensive endpoint on purpose (the Argon2id
    /// bulkhead on login). Counting it let a login flood open the breaker for every route of the cluster (seen in the
    /// benchmark), turning back-pressure into an outage.</item>
    /// <item>500 and the other 5xx: one request failing on a backend that is up and answering. The breaker is shared by
    /// every client of the cluster, so counting 500s lets one client who finds an input the backend mishandles (it
    /// answered malformed JSON 500 until issue 14) open it for everyone with five requests. A backend that is really
    /// down still opens it through connection failures, timeouts and 502/503/504 (docs/policies.md).</item>
    /// </list>
    /// </summary>
    internal static bool IsBackendFailure(HttpResponseMessage response) => response.StatusCode switch
    {
        HttpStatusCode.BadGateway or HttpStatusCode.GatewayTimeout => true,
        HttpStatusCode.ServiceUnavailable => response.Headers.RetryAfter is null,
        _ => false,
    };

    /// <summary>
    /// True when the backend call failed because reading the client's request body failed: YARP streams the body into
    /// the backend request, so a malformed chunk, a body below Kestrel's minimum data rate or a client resetting its
    /// connection surface as the backend call throwing. Only Kestrel throws these types, and only for the inbound
    /// connection (the backend side is SocketsHttpHandler), so they mark the client's fault exactly.
    /// </summary>
    internal static bool IsClientSideFailure(Exception exception)
    {
        for (var e = exception.InnerException; e is not null; e = e.InnerException)
            if (e is BadHttpRequestException or ConnectionAbortedException or ConnectionResetException) return true;
        return false;
    }

    /// <summary>Only failures where the request certainly never reached the backend are safe to retry.</summary>
    internal static bool IsConnectionFailure(Exception? ex) =>
        ex is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError };

    internal static bool IsIdempotent(string? method) =>
        method is "GET" or "HEAD" or "OPTIONS";

    internal sealed record ClusterPipeline(ResiliencePipeline<HttpResponseMessage> Pipeline, CircuitBreakerStateProvider State, RetryBudget Budget);
}
