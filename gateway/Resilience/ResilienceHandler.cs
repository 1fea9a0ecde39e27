using System.Net;
using System.Net.Http.Headers;
using System.Runtime.ExceptionServices;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;
using Gateway.Contracts;
using Gateway.Pipeline;

namespace Gateway.Resilience;

/// <summary>
/// Wraps the handler YARP's forwarder sends through with the cluster's resilience pipeline. An open breaker becomes a
/// 503 with <c>Retry-After</c> (the backend is not touched); a timeout becomes a 504. Both carry
/// <see cref="FaultHeader"/> so the gateway's error mapping can tell them from backend answers.
/// The breaker scope is the cluster the handler was created for (YARP builds one client per cluster, see
/// <c>GatewayForwarderHttpClientFactory</c>), so proxied requests carry nothing extra. A handler created without a
/// cluster reads <see cref="ClusterKey"/> and <see cref="TimeoutKey"/> from <see cref="HttpRequestMessage.Options"/>
/// (tests and other callers); without them the cluster is the destination authority and the timeout the configured default.
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

    internal ResilienceHandler(BackendResilience resilience, HttpMessageHandler inner, string? cluster = null) : base(inner)
    {
        _resilience = resilience;
        _cluster = string.IsNullOrEmpty(cluster) ? null : cluster;
    }

    /// <summary>Creates the handler around <paramref name="inner"/> (usually YARP's <c>SocketsHttpHandler</c>) for one cluster.</summary>
    public static ResilienceHandler Create(IServiceProvider services, HttpMessageHandler inner, string? cluster = null) =>
        new(services.GetRequiredService<BackendResilience>(), inner, cluster);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        // A bound handler (every proxied request) never touches request.Options: its getter allocates a dictionary.
        TimeSpan? timeout = null;
        string cluster;
        if (_cluster is not null) cluster = _cluster;
        else
        {
            cluster = request.Options.TryGetValue(ClusterKey, out var c) && !string.IsNullOrEmpty(c) ? c : request.RequestUri?.Authority ?? "default";
            if (request.Options.TryGetValue(TimeoutKey, out var t)) timeout = t;
        }
        var pipeline = _resilience.Get(cluster);
        pipeline.Budget.OnAttempt();

        // The operation key is the HTTP method: the retry strategy reads it to retry idempotent requests only, without
        // a per-request property bag.
        var context = ResilienceContextPool.Shared.Get(request.Method.Method, cancellationToken);
        try
        {
            if (timeout is { } perAttempt) context.Properties.Set(BackendResilience.TimeoutKey, perAttempt);

            var outcome = await pipeline.Pipeline.ExecuteOutcomeAsync(
                static async (ctx, state) =>
                {
                    try
                    {
                        return Outcome.FromResult(await state.Self.SendInnerAsync(state.Request, ctx.CancellationToken).ConfigureAwait(false));
                    }
                    catch (Exception ex)
                    {
                        return Outcome.FromException<HttpResponseMessage>(ex);
                    }
                },
                context,
                (Self: this, Request: request)).ConfigureAwait(false);

            switch (outcome.Exception)
            {
                case null:
                    return outcome.Result!;
                case BrokenCircuitException broken:
                    return Synthesize(request, cluster, HttpStatusCode.ServiceUnavailable, "circuit-open", broken.RetryAfter ?? _resilience.Options.BreakDuration);
                case TimeoutRejectedException when !cancellationToken.IsCancellationRequested:
                    return Synthesize(request, cluster, HttpStatusCode.GatewayTimeout, "timeout", retryAfter: null);
                default:
                    ExceptionDispatchInfo.Throw(outcome.Exception);
                    return null!;
            }
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private Task<HttpResponseMessage> SendInnerAsync(HttpRequestMessage request, CancellationToken ct) => base.SendAsync(request, ct);

    /// <summary>The problem the client gets instead of a backend answer; it names the cluster, since every cluster is some team's backend.</summary>
    private static HttpResponseMessage Synthesize(HttpRequestMessage request, string cluster, HttpStatusCode status, string fault, TimeSpan? retryAfter)
    {
        var response = new HttpResponseMessage(status) { RequestMessage = request };
        response.Headers.TryAddWithoutValidation(FaultHeader, fault);
        if (retryAfter is { } ra)
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
