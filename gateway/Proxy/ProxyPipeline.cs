using System.Collections.Frozen;
using Gateway.Contracts;
using Gateway.Observability;
using Gateway.Pipeline;
using Gateway.Resilience;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.LoadBalancing;
using Yarp.ReverseProxy.Model;

namespace Gateway.Proxy;

/// <summary>
/// The gateway's steps of every YARP route, in one stage in front of YARP's forwarder step. YARP's standard pipeline
/// ran four middlewares here (session affinity, load balancing, passive health, the gateway's timeout mapping), two of
/// them async frames that every proxied request resumed through (docs/performance.md, "Third pass"):
/// <list type="bullet">
/// <item>Session affinity: the route file configures none (it has no affinity settings), so that step never did anything.</item>
/// <item>Load balancing and passive health: here, with YARP's own policies, so health checks, <c>/gateway/status</c> and
///   explain see the same state as before. The forwarder step after it counts each destination's requests in flight
///   (what <c>LeastRequests</c> and <c>PowerOfTwoChoices</c> read); those counters are YARP's own.</item>
/// <item>A class timeout becomes 504 (counted on the breaker): YARP reports a request cancelled by the deadline as a
///   client cancellation (400), and the client did nothing wrong. Unless the client was still sending its body then:
///   408, the client's delay, not counted.</item>
/// <item>Forwarder failures (<see cref="IForwarderErrorFeature"/>) are counted (<c>gateway.proxy.errors</c>) and logged here,
///   throttled, instead of by YARP: YARP writes a Warning with the full exception (~5-14 KB) for every request whose body
///   the client aborts or garbles, so one client could flood the log. Its category
///   (<c>Yarp.ReverseProxy.Forwarder.HttpForwarder</c>) is set to Error in the gateway's defaults (ConfigurationLayers).</item>
/// </list>
/// </summary>
internal static class ProxyPipeline
{
    public static void Configure(IReverseProxyApplicationBuilder proxy) => proxy.UseMiddleware<ProxyStage>();
}

/// <summary>See <see cref="ProxyPipeline"/>.</summary>
internal sealed partial class ProxyStage
{
    private readonly RequestDelegate _next;
    private readonly BackendResilience _resilience;
    private readonly FrozenDictionary<string, ILoadBalancingPolicy> _balancers;
    private readonly FrozenDictionary<string, IPassiveHealthCheckPolicy> _passive;
    private readonly ILogger _logger;
    private readonly GatewayMetrics _metrics;
    private readonly LogThrottle<ForwarderError> _clientErrorLogs;
    private readonly LogThrottle<(string Cluster, ForwarderError Error)> _backendErrorLogs;
    private readonly StreamedBodyShare _streamedBodies;
    private readonly TierLoadShedder _clients;

    public ProxyStage(RequestDelegate next, BackendResilience resilience, IEnumerable<ILoadBalancingPolicy> balancers,
        IEnumerable<IPassiveHealthCheckPolicy> passive, GatewayMetrics metrics, TimeProvider time,
        IOptions<ObservabilityOptions> observability, StreamedBodyShare streamedBodies, TierLoadShedder clients, ILogger<ProxyStage> logger)
    {
        _streamedBodies = streamedBodies;
        _clients = clients;
        _metrics = metrics;
        var o = observability.Value;
        var window = TimeSpan.FromSeconds(o.ProxyErrorLogWindowSeconds);
        // Client-caused: per kind only (a client picks the route, so its cluster, freely). Backend-caused: per cluster
        // and kind, so one failing cluster cannot hide another's failures; clusters come from the route file.
        _clientErrorLogs = new(time, o.ProxyErrorLogsPerWindow, window);
        _backendErrorLogs = new(time, o.ProxyErrorLogsPerWindow, window);
        _next = next;
        _resilience = resilience;
        // Policy names are case-insensitive in YARP's config, as in its own middlewares.
        _balancers = balancers.ToFrozenDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
        _passive = passive.ToFrozenDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
        _logger = logger;
    }

    public Task Invoke(HttpContext context)
    {
        var proxy = context.Features[typeof(IReverseProxyFeature)] as IReverseProxyFeature
            ?? throw new InvalidOperationException("The proxy stage runs inside YARP's pipeline, which sets IReverseProxyFeature.");
        var destination = Pick(context, proxy);
        if (destination is null)
        {
            Log.NoHealthyDestination(_logger, proxy.Cluster.Config.ClusterId);
            proxy.AvailableDestinations = [];
            return NoHealthyDestination.WriteAsync(context);
        }
        proxy.AvailableDestinations = destination;   // one destination: the forwarder step sends there
        return ForwardAsync(context, proxy);
    }

    private DestinationState? Pick(HttpContext context, IReverseProxyFeature proxy)
    {
        var destinations = proxy.AvailableDestinations;
        if (destinations.Count <= 1) return destinations.Count == 0 ? null : destinations[0];
        var name = proxy.Cluster.Config.LoadBalancingPolicy ?? LoadBalancingPolicies.PowerOfTwoChoices;
        if (!_balancers.TryGetValue(name, out var policy))
            throw new InvalidOperationException($"No load balancing policy named '{name}' is registered.");   // the route file allows YARP's own only
        return policy.PickDestination(context, proxy.Route.Cluster!, destinations);
    }

    /// <summary>
    /// Bodies up to this size are read whole before the backend is called (every JSON API of the backend is far below).
    /// Streamed, a client trickling its uploads held a stream of the one connection to the backend (100 streams) for
    /// each until the class's deadline: one client could take them all, every other client's request then waited for a
    /// stream until its own deadline (504), and those 504s opened the breaker for everyone. nginx buffers request bodies
    /// by default for the same reason. Larger bodies still stream (docs/hardening.md).
    /// </summary>
    internal const int BufferedBodyLimit = 64 * 1024;

    private async Task ForwardAsync(HttpContext context, IReverseProxyFeature proxy)
    {
        // Only a request with a body can stall on the client; the watch tells that apart from a slow backend at the deadline.
        ClientBodyWatch? body = null;
        byte[]? buffered = null;
        int streamedStripe = -1;
        bool canHaveBody = context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true;
        if (canHaveBody)
        {
            body = new ClientBodyWatch(context.Request.BodyReader);   // the reader before the swap
            if (context.Request.ContentLength is > 0 and <= BufferedBodyLimit)
            {
                buffered = System.Buffers.ArrayPool<byte>.Shared.Rent((int)context.Request.ContentLength.Value);
                int length = await ReadWholeBodyAsync(context, body, buffered).ConfigureAwait(false);
                if (length < 0)
                {
                    System.Buffers.ArrayPool<byte>.Shared.Return(buffered);
                    return;
                }
                context.Request.Body = new MemoryStream(buffered, 0, length, writable: false);
            }
            else
            {
                // Streamed: it holds a backend stream or connection until it ends, however slowly the client sends it.
                // (A WebSocket's "body" is the socket: Streams:MaxPerAddress counts those.)
                streamedStripe = IsWebSocket(context) ? -1 : _clients.StripeOf(context);
                if (streamedStripe >= 0 && !_streamedBodies.TryEnter(streamedStripe))
                {
                    streamedStripe = -1;
                    context.Response.Headers.RetryAfter = "1";
                    GatewayProblems.CloseAfterResponse(context);   // its body stays unread
                    await GatewayProblems.TooManyUploads.WriteAsync(context).ConfigureAwait(false);
                    return;
                }
                context.Request.Body = body;
            }
        }
        try
        {
            using (GatewayTracing.StartStage(context, GatewayStage.Proxy))
                await _next(context).ConfigureAwait(false);
        }
        finally
        {
            if (buffered is not null) System.Buffers.ArrayPool<byte>.Shared.Return(buffered);
            if (streamedStripe >= 0) _streamedBodies.Exit(streamedStripe);
        }

        if (RefusedWebSocketTransformProvider.WasRefused(context) && !context.Response.HasStarted)
        {
            // The backend's 2xx answer to an HTTP/2 WebSocket cannot be relayed (it would open a tunnel to nothing, and
            // with a body Kestrel refuses it, which YARP turned into a 502): the client asked a path for what it does not serve.
            context.Response.Clear();
            await GatewayProblems.WebSocketNotAccepted.WriteAsync(context).ConfigureAwait(false);
            return;
        }

        var cluster = proxy.Cluster.Config;
        var failure = context.Features.Get<IForwarderErrorFeature>();
        bool failed = failure is not null && failure.Error != ForwarderError.None;
        bool deadlineExpired = failed && context.Features.Get<IHttpRequestTimeoutFeature>() is RequestDeadline { Expired: true };
        bool clientStalled = failed && StalledOnClient(failure!.Error, deadlineExpired, body);

        // Passive health judges the destination: a body the client stopped sending says nothing about it (YARP's policy
        // counts the RequestTimedOut of a cluster's idle timeout as the destination's failure whoever went quiet).
        if (cluster.HealthCheck?.Passive is { Enabled: true } passive && proxy.ProxiedDestination is { } destination && !clientStalled
            && _passive.TryGetValue(passive.Policy ?? HealthCheckConstants.PassivePolicy.TransportFailureRate, out var policy))
            policy.RequestProxied(context, proxy.Route.Cluster!, destination);

        if (!failed) return;
        // A stall the cluster's idle timeout ended is the client's; one the class's deadline ended keeps its Timeout cause.
        string cause = clientStalled && !deadlineExpired ? ForwarderErrors.Client : ForwarderErrors.Cause(failure!.Error, deadlineExpired, canHaveBody);
        // Before the HasStarted check: a response-body failure happens after the response started.
        Report(failure!, cluster.ClusterId, cause, deadlineExpired);
        if ((clientStalled || failure!.Error == ForwarderError.RequestBodyClient) && GatewayRequestFeature.Of(context) is { } waited)
            waited.WaitedOnClient = true;

        if (context.Response.HasStarted) return;
        if (clientStalled || failure!.Error == ForwarderError.RequestBodyClient && context.Response.StatusCode == StatusCodes.Status408RequestTimeout)
        {
            // The class's deadline or the cluster's idle timeout passed while the forwarder waited on the client's body
            // (YARP's empty 408 over HTTP/1.1 and 504 over HTTP/2 for the latter), or Kestrel found the body below its
            // minimum data rate: the client's delay, not the backend's.
            context.Response.Clear();
            GatewayProblems.CloseAfterResponse(context);
            await GatewayProblems.RequestBodyTimeout.WriteAsync(context).ConfigureAwait(false);
            return;
        }
        if (failure!.Error == ForwarderError.RequestTimedOut)
        {
            // The cluster's idle timeout (YARP's ActivityTimeout) passed with the backend silent, not the client (that
            // case returned above). YARP answers an empty 504, and its activity token is the caller's, so the resilience
            // handler took the cancellation for the caller leaving and counted nothing: a hung backend never opened the
            // breaker. Counted here, and answered as the handler's own timeout is.
            _resilience.Get(cluster.ClusterId).Breaker.Record(_resilience.CountsOnBreaker(cluster.ClusterId, failed: true));
            context.Response.Clear();
            context.Response.StatusCode = StatusCodes.Status504GatewayTimeout;
            context.Response.Headers[ResilienceHandler.FaultHeader] = "timeout";
            context.Response.ContentType = "application/problem+json";
            await context.Response.Body.WriteAsync(GatewayProblems.Encode(ProblemTypes.Timeout, "The upstream service did not answer in time.", 504,
                $"Cluster '{cluster.ClusterId}' sent nothing for its idle timeout.", "cluster", cluster.ClusterId)).ConfigureAwait(false);
            return;
        }
        if (failure is { Error: ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled } && deadlineExpired)
        {
            context.Response.StatusCode = StatusCodes.Status504GatewayTimeout;
            // A backend that did not answer within the class's timeout counts as a failure on its cluster's breaker only
            // when the timeout is the backend's (ForwarderErrors.Cause: a request without a body): a client sending its
            // body slowly also runs into the deadline, and one client's slowness must never open a breaker that every
            // client of the cluster depends on. The same rule labels the failure's cause in the metric and the log.
            if (cause == ForwarderErrors.Backend)
                _resilience.Get(cluster.ClusterId).Breaker.Record(_resilience.CountsOnBreaker(cluster.ClusterId, failed: true));
        }
    }

    private static bool IsWebSocket(HttpContext context) =>
        HttpMethods.IsConnect(context.Request.Method) || context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true };

    /// <summary>
    /// Whether the time went to the client's body. The client's failure or reset mid-body is the client's too, but not a
    /// stall. YARP reports a stall as RequestBodyCanceled when its body copy failed first; over HTTP/2 to the backend the
    /// send usually fails first, as RequestCanceled at the class's deadline and RequestTimedOut at the cluster's idle
    /// timeout (YARP's ActivityTimeout): then the body watch says whether the forwarder was still waiting on the client.
    /// A client that left while waiting for the answer (RequestCanceled without the deadline) may have waited on the
    /// backend; YARP reports some uploads reset mid-body that way too, and counting those is the safe side, since
    /// excluding them would also hide a saturated backend whose clients give up.
    /// </summary>
    private static bool StalledOnClient(ForwarderError error, bool deadlineExpired, ClientBodyWatch? body) => error switch
    {
        ForwarderError.RequestBodyCanceled => true,
        ForwarderError.RequestCanceled => deadlineExpired && body is { WaitingOnClient: true },
        ForwarderError.RequestTimedOut => body is { WaitingOnClient: true },
        _ => false,
    };

    /// <summary>
    /// Reads a body of known, small length into <paramref name="buffer"/>; its length, or -1 when the request was answered
    /// (or its client left) instead. The class's deadline bounds the wait: a client still sending then gets the 408 the
    /// forwarder's path gives it (request-body-timeout, connection closed, not the backend's failure).
    /// </summary>
    private static async Task<int> ReadWholeBodyAsync(HttpContext context, ClientBodyWatch body, byte[] buffer)
    {
        int expected = (int)context.Request.ContentLength!.Value, read = 0;
        try
        {
            while (read < expected)
            {
                int n = await body.ReadAsync(buffer.AsMemory(read, expected - read), context.RequestAborted).ConfigureAwait(false);
                if (n == 0) break;   // Kestrel refuses a body shorter than its Content-Length, so this is the end
                read += n;
            }
            return read;
        }
        catch (OperationCanceledException) when (context.Features.Get<IHttpRequestTimeoutFeature>() is RequestDeadline { Expired: true })
        {
            if (GatewayRequestFeature.Of(context) is { } feature) feature.WaitedOnClient = true;
            GatewayProblems.CloseAfterResponse(context);
            await GatewayProblems.RequestBodyTimeout.WriteAsync(context).ConfigureAwait(false);
            return -1;
        }
        catch (OperationCanceledException) { return -1; }   // the client left: nobody to answer
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException ex)
        {
            // Kestrel's verdicts on the body, the client's doing and never sent on to the backend: below the minimum data
            // rate (408, answered as the deadline's), over the size limit (413), or ended before its Content-Length (the
            // client closed its side: nobody reads an answer).
            if (GatewayRequestFeature.Of(context) is { } feature) feature.WaitedOnClient = true;
            GatewayProblems.CloseAfterResponse(context);
            if (context.Response.HasStarted || context.RequestAborted.IsCancellationRequested) return -1;
            if (ex.StatusCode == StatusCodes.Status413PayloadTooLarge) await GatewayProblems.BodyTooLarge.WriteAsync(context).ConfigureAwait(false);
            else if (ex.StatusCode == StatusCodes.Status408RequestTimeout) await GatewayProblems.RequestBodyTimeout.WriteAsync(context).ConfigureAwait(false);
            else context.Response.StatusCode = ex.StatusCode;   // never an empty 200
            return -1;
        }
        catch (IOException)
        {
            // An HTTP/2 client that reset its stream mid-body: Kestrel's read fails with the reset. Its own doing, never a
            // backend's failure nor an unhandled error in the log; nobody reads an answer.
            if (GatewayRequestFeature.Of(context) is { } feature) feature.WaitedOnClient = true;
            return -1;
        }
    }

    /// <summary>
    /// Counts every forwarder failure, then logs it by whose fault it is (<see cref="ForwarderErrors"/>): a client's at
    /// Debug per request plus a throttled Information line without the stack trace, a backend's as a throttled Warning
    /// with its exception; a timeout of unknown fault like a client's (<see cref="ForwarderErrors.Cause"/>).
    /// </summary>
    private void Report(IForwarderErrorFeature failure, string cluster, string cause, bool deadlineExpired)
    {
        var error = failure.Error;
        bool timedOut = cause == ForwarderErrors.Backend && deadlineExpired;
        var errorName = error.ToString();   // a defined enum value: its cached name, no allocation
        _metrics.RecordProxyError(cluster, errorName, cause);
        // A timeout of unknown fault is logged like a client's: a Warning any slow client could trigger would let one
        // client fill the backend's Warning budget and hide its real failures.
        if (cause != ForwarderErrors.Backend)
        {
            if (_logger.IsEnabled(LogLevel.Debug))
                Log.ClientProxyError(_logger, cluster, errorName, Reason(failure.Exception));
            if (_logger.IsEnabled(LogLevel.Information) && _clientErrorLogs.TryAcquire(error, out var suppressed))
                Log.ClientProxyErrors(_logger, cluster, errorName, Reason(failure.Exception), suppressed.Count,
                    Math.Round(suppressed.Over.TotalSeconds, 1), (int)_clientErrorLogs.Window.TotalSeconds);
        }
        else if (_logger.IsEnabled(LogLevel.Warning) && _backendErrorLogs.TryAcquire((cluster, error), out var suppressed))
        {
            Log.BackendProxyError(_logger, failure.Exception, cluster, errorName, timedOut ? "the class's timeout passed" : Reason(failure.Exception),
                suppressed.Count, Math.Round(suppressed.Over.TotalSeconds, 1));
        }
    }

    /// <summary>
    /// The exception's own words without its stack: YARP wraps a body-copy failure in an AggregateException whose first
    /// inner exception says what happened (e.g. Kestrel's "Bad chunk size data.").
    /// </summary>
    private static string Reason(Exception? exception) => exception switch
    {
        null => "no exception",
        AggregateException { InnerExceptions.Count: > 0 } aggregate => Reason(aggregate.InnerExceptions[0]),
        _ => $"{exception.GetType().Name}: {exception.Message}",
    };

    private static partial class Log
    {
        // Debug: it repeats for every request while the cluster is down; the cluster's open breaker
        // (gateway_breaker_state, alert GatewayNoHealthyDestination) and /gateway/status are the operator's signal.
        [LoggerMessage(7001, LogLevel.Debug, "No healthy destination in cluster '{Cluster}': answered 503.", EventName = "NoHealthyDestination")]
        public static partial void NoHealthyDestination(ILogger logger, string cluster);

        // Debug and without the exception: any client can cause it on every request (a bad chunk, a reset mid-upload).
        [LoggerMessage(7002, LogLevel.Debug, "Proxying to cluster '{Cluster}' failed on the client's side: {Error} ({Reason}).", EventName = "ClientProxyError")]
        public static partial void ClientProxyError(ILogger logger, string cluster, string error, string reason);

        // Throttled (LogThrottle, per error kind), no stack trace: tells operators that clients are failing this way, and
        // how often, without one client being able to fill the disk. gateway_proxy_errors_total has every one.
        [LoggerMessage(7003, LogLevel.Information,
            "Proxying to cluster '{Cluster}' failed on the client's side: {Error} ({Reason}). Not logged before this one: {Suppressed} like it, over {SuppressedSeconds} s; "
            + "client-caused proxy errors are logged at most a few times per {WindowSeconds} s per kind (each at Debug), and all are counted in gateway_proxy_errors_total.",
            EventName = "ClientProxyErrors")]
        public static partial void ClientProxyErrors(ILogger logger, string cluster, string error, string reason, long suppressed, double suppressedSeconds, int windowSeconds);

        // Warning with the exception: the backend failed, which operators act on. Throttled per cluster and kind, since a
        // down backend fails every request sent to it; gateway_proxy_errors_total has every one.
        [LoggerMessage(7004, LogLevel.Warning,
            "Proxying to cluster '{Cluster}' failed: {Error} ({Reason}). Not logged before this one: {Suppressed} like it, over {SuppressedSeconds} s (all counted in gateway_proxy_errors_total).",
            EventName = "BackendProxyError")]
        public static partial void BackendProxyError(ILogger logger, Exception? exception, string cluster, string error, string reason, long suppressed, double suppressedSeconds);
    }
}
