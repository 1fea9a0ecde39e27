using System.Net;
using System.Net.Http.Headers;
using System.Runtime.ExceptionServices;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

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
public sealed class ResilienceHandler : DelegatingHandler
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
        // Health probes are health's business: a destination failing its probes must not open the cluster's breaker.
        if (request is Proxy.HealthProbeRequest) return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
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
                        return await state.Self.FailOverAsync(state.Request, state.Cluster, ex, ctx.CancellationToken).ConfigureAwait(false);
                    }
                },
                context,
                (Self: this, Request: request, Cluster: cluster)).ConfigureAwait(false);

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

    /// <summary>
    /// A destination that refused the connection never saw the request, so it goes to another available destination of
    /// the cluster at once (until health checks take the dead one out, within one probe interval), instead of failing the
    /// client. Only requests without a body: a body streamed from the client cannot be sent twice. The refused attempt
    /// reaches neither the breaker nor the retry budget when another destination answers.
    /// </summary>
    private async Task<Outcome<HttpResponseMessage>> FailOverAsync(HttpRequestMessage request, string cluster, Exception error, CancellationToken ct)
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
                return Outcome.FromResult(await SendInnerAsync(request, ct).ConfigureAwait(false));
            }
            catch (Exception ex)
            {
                error = ex;
            }
        }
        return Outcome.FromException<HttpResponseMessage>(error);
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
        response.Content = new StringContent(System.Text.Json.JsonSerializer.Serialize(new ClusterProblem(
            "https://gateway.dev/problems/" + fault, title, (int)status, detail, cluster), ResilienceJson.Default.ClusterProblem),
            MediaTypeHeaderValue.Parse("application/problem+json"));
        return response;
    }
}

/// <summary>RFC 9457 body of a synthesized upstream failure, with the cluster as an extension member.</summary>
internal sealed record ClusterProblem(string Type, string Title, int Status, string Detail, string Cluster);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[System.Text.Json.Serialization.JsonSerializable(typeof(ClusterProblem))]
internal sealed partial class ResilienceJson : System.Text.Json.Serialization.JsonSerializerContext;
