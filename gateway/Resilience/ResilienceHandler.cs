using System.Runtime.ExceptionServices;
using System.Net;
using System.Net.Http.Headers;
using Gateway.Contracts;
using Gateway.Pipeline;

namespace Gateway.Resilience;

/// <summary>
/// Wraps the handler YARP's forwarder sends through with the cluster's breaker and retry budget. An open breaker becomes
/// a 503 with <c>Retry-After</c> (the backend is not touched); a timeout of this handler becomes a 504. Both carry
/// <see cref="FaultHeader"/> so the gateway's error mapping can tell them from backend answers. Idempotent requests
/// whose connection failed (they never reached the backend) are retried with a jittered backoff, within the budget.
/// The breaker scope is the cluster the handler was created for (YARP builds one client per cluster, see
/// <c>GatewayForwarderHttpClientFactory</c>), so proxied requests carry nothing extra, and their deadline is the route
/// class's timeout on the request's token (ProxyPipeline maps it to 504 and counts it on the breaker). A handler created
/// without a cluster reads <see cref="ClusterKey"/> and <see cref="TimeoutKey"/> from <see cref="HttpRequestMessage.Options"/>
/// (tests and other callers); without them the cluster is the destination authority and the timeout the configured default.
/// One async method per call and no allocation of its own on success: every proxied request runs through here.
/// </summary>
internal sealed class ResilienceHandler : DelegatingHandler
{
    /// <summary>The backend cluster the request goes to (breaker scope).</summary>
    public static readonly HttpRequestOptionsKey<string> ClusterKey = new("Gateway.Cluster");
    /// <summary>The per-class timeout of one attempt.</summary>
    public static readonly HttpRequestOptionsKey<TimeSpan> TimeoutKey = new("Gateway.Timeout");
    /// <summary>Response header marking a response the gateway synthesized: <c>circuit-open</c> or <c>timeout</c>.</summary>
    public const string FaultHeader = "X-Gateway-Fault";

    private readonly BackendResilience _resilience;
    private readonly string? _cluster;
    private BackendResilience.ClusterPipeline? _bound;

    internal ResilienceHandler(BackendResilience resilience, HttpMessageHandler inner, string? cluster = null) : base(inner)
    {
        _resilience = resilience;
        _cluster = string.IsNullOrEmpty(cluster) ? null : cluster;
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        // Health probes are health's business: a destination failing its probes must not open the cluster's breaker.
        if (request is Proxy.HealthProbeRequest) return base.SendAsync(request, cancellationToken);
        if (_cluster is not null)
        {
            // A bound handler (every proxied request) never touches request.Options: its getter allocates a dictionary.
            var bound = _bound is { Forgotten: false } held ? held : _bound = _resilience.Get(_cluster);
            bound.Budget.OnAttempt();
            return SendAsync(request, _cluster, bound, timeout: null, cancellationToken);
        }
        string cluster = request.Options.TryGetValue(ClusterKey, out var c) && !string.IsNullOrEmpty(c) ? c : request.RequestUri?.Authority ?? "default";
        TimeSpan timeout = request.Options.TryGetValue(TimeoutKey, out var t) && t > TimeSpan.Zero ? t : _resilience.Options.DefaultTimeout;
        var pipeline = _resilience.Get(cluster);
        pipeline.Budget.OnAttempt();
        return SendAsync(request, cluster, pipeline, timeout, cancellationToken);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, string cluster, BackendResilience.ClusterPipeline pipeline,
        TimeSpan? timeout, CancellationToken cancellationToken)
    {
        for (int attempt = 0; ; attempt++)
        {
            if (!pipeline.Breaker.TryEnter(out var retryAfter))
                return Synthesize(request, cluster, HttpStatusCode.ServiceUnavailable, "circuit-open", retryAfter);
            using var deadline = timeout is { } perAttempt ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken) : null;
            deadline?.CancelAfter(timeout!.Value);
            var token = deadline?.Token ?? cancellationToken;
            HttpResponseMessage response;
            try
            {
                response = await base.SendAsync(request, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (deadline is { IsCancellationRequested: true } && !cancellationToken.IsCancellationRequested)
            {
                pipeline.Breaker.Record(_resilience.CountsOnBreaker(cluster, failed: true));
                return Synthesize(request, cluster, HttpStatusCode.GatewayTimeout, "timeout", retryAfter: null);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // The caller gave up (client gone, or the route class's deadline: ProxyPipeline counts that one).
                pipeline.Breaker.Release();
                throw;
            }
            catch (Exception first)
            {
                var (failedOver, error) = await FailOverAsync(request, cluster, first, token).ConfigureAwait(false);
                if (failedOver is null)
                {
                    pipeline.Breaker.Record(_resilience.CountsOnBreaker(cluster, BackendResilience.IsBackendFailure(error)));
                    if (attempt >= _resilience.Options.MaxRetryAttempts || !BackendResilience.IsConnectionFailure(error)
                        || !BackendResilience.IsIdempotent(request.Method.Method) || !pipeline.Budget.TryWithdraw())
                        ExceptionDispatchInfo.Throw(error);
                    await Task.Delay(Backoff(attempt), _resilience.Time, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                response = failedOver;
            }
            pipeline.Breaker.Record(_resilience.CountsOnBreaker(cluster, BackendResilience.IsBackendFailure(response)));
            return response;
        }
    }

    /// <summary>Exponential backoff from the base delay, jittered by ±50 % so retries of many clients do not align.</summary>
    private TimeSpan Backoff(int attempt) =>
        _resilience.Options.RetryBaseDelay * (Math.Pow(2, attempt) * (0.5 + Random.Shared.NextDouble()));

    /// <summary>
    /// A destination that refused the connection never saw the request, so it goes to another available destination of
    /// the cluster at once (until health checks take the dead one out, within one probe interval), instead of failing the
    /// client. Only requests without a body: a body streamed from the client cannot be sent twice. The refused attempt
    /// reaches neither the breaker nor the retry budget when another destination answers. Returns the answer, or null
    /// and the last error.
    /// </summary>
    private async Task<(HttpResponseMessage? Response, Exception Error)> FailOverAsync(HttpRequestMessage request, string cluster,
        Exception error, CancellationToken ct)
    {
        List<Uri>? tried = null;
        while (_resilience.Destinations is { } destinations && request.Content is null && !ct.IsCancellationRequested
               && BackendResilience.IsConnectionFailure(error) && request.RequestUri is { } failed
               && destinations.FailoverTarget(cluster, failed, tried ??= []) is { } next)
        {
            tried.Add(failed);
            request.RequestUri = next;
            try
            {
                return (await base.SendAsync(request, ct).ConfigureAwait(false), error);
            }
            catch (Exception ex)
            {
                error = ex;
            }
        }
        return (null, error);
    }

    /// <summary>The problem the client gets instead of a backend answer; it names the cluster, since every cluster is some team's backend.</summary>
    private static HttpResponseMessage Synthesize(HttpRequestMessage request, string cluster, HttpStatusCode status, string fault, TimeSpan? retryAfter)
    {
        var response = new HttpResponseMessage(status) { RequestMessage = request };
        response.Headers.TryAddWithoutValidation(FaultHeader, fault);
        if (retryAfter is { } ra)   // an open breaker's remaining break (at least 1 s)
            response.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling(ra.TotalSeconds))));
        string title = fault == "timeout" ? "The upstream service did not answer in time." : "The upstream service is unavailable.";
        string detail = fault == "timeout"
            ? $"Cluster '{cluster}' did not answer within the route's timeout."
            : $"Cluster '{cluster}' is failing; the gateway stopped sending it requests for a while (circuit open).";
        // The cluster as an extension member, since every cluster is some team's backend.
        response.Content = new ByteArrayContent(GatewayProblems.Encode(fault == "timeout" ? ProblemTypes.Timeout : ProblemTypes.CircuitOpen,
            title, (int)status, detail, "cluster", cluster));
        response.Content.Headers.ContentType = new MediaTypeHeaderValue("application/problem+json");
        return response;
    }
}
