using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Gateway.Observability;

/// <summary>
/// The gateway's instruments on meter <c>Gateway</c>, named and unit-ed after the OpenTelemetry semantic conventions.
/// Recording methods take tags through <see cref="TagList"/> (a struct) and pre-computed strings: no allocation per call.
/// Other components own the instruments of their own stage on the same meter (rate limiting:
/// <c>gateway.ratelimit.rejections</c>/<c>.fallback</c>/<c>.leases</c>; sessions: <c>gateway.invalidation.delay</c>; load shedding:
/// <c>gateway.loadshed.rejections</c>); one name has exactly one owner. The Prometheus exporter exports them all.
/// </summary>
internal sealed class GatewayMetrics
{
    /// <summary>The meter name.</summary>
    public const string MeterName = "Gateway";

    private static readonly string[] StatusClasses = ["1xx", "1xx", "2xx", "3xx", "4xx", "5xx"];

    private readonly Histogram<double> _requestDuration;
    private readonly Counter<long> _overBudget;
    private readonly Histogram<double> _validationDuration;
    private readonly Counter<long> _validations;
    private readonly Counter<long> _cacheLookups;
    private readonly Histogram<double> _redisDuration;
    private readonly Counter<long> _redisFailures;
    private readonly Counter<long> _proxyErrors;

    /// <param name="meterFactory">Creates the <c>Gateway</c> meter.</param>
    /// <param name="breakerSources">Enumerated at each scrape for <c>gateway.breaker.state</c>.</param>
    /// <param name="configStatus">Read at each scrape for <c>gateway.config.last_reload_success</c>; none, no series.</param>
    public GatewayMetrics(IMeterFactory meterFactory, IEnumerable<IBreakerStateSource> breakerSources, Func<IConfigStatusSource?>? configStatus = null)
    {
        var meter = meterFactory.Create(MeterName);
        _requestDuration = meter.CreateHistogram<double>("gateway.request.duration", "s",
            "Gateway request duration, from the first gateway middleware to the end of the response, by tier, route class and status class.");
        _overBudget = meter.CreateCounter<long>("gateway.request.over_budget", "{request}",
            "Requests that took longer than their route class budget.");
        _validationDuration = meter.CreateHistogram<double>("gateway.session.validation.duration", "s",
            "Session validation duration by source (l1, l2, backend, negative, rejected).");
        _validations = meter.CreateCounter<long>("gateway.session.validations", "{validation}",
            "Session validations by source (l1, l2, backend, negative, rejected).");
        _cacheLookups = meter.CreateCounter<long>("gateway.cache.lookups", "{lookup}",
            "Cache lookups by cache (response, session), level (l1, l2) and result (hit, miss).");
        _redisDuration = meter.CreateHistogram<double>("gateway.redis.duration", "s", "Redis call duration by operation.");
        _redisFailures = meter.CreateCounter<long>("gateway.redis.failures", "{call}",
            "Redis calls that failed, by operation and error (timeout, redis); each one also trips the Redis breaker.");
        // Every failure YARP's forwarder reports, so the throttled log lines about them (ProxyStage) lose no count.
        _proxyErrors = meter.CreateCounter<long>("gateway.proxy.errors", "{error}",
            "Proxied requests that YARP's forwarder reported as failed, by cluster, error (YARP's ForwarderError) and cause (client, backend).");
        // Enumerated at scrape time, not here: sources (e.g. Redis's) may depend on services that depend on these metrics.
        meter.CreateObservableGauge("gateway.breaker.state", () => ObserveBreakers(breakerSources), "{state}",
            "Circuit breaker state by name: 0 closed, 1 half-open, 2 open.");
        // Named after Prometheus's own prometheus_config_last_reload_successful, which operators already alert on. A
        // rejected reload leaves the previous config serving, so nothing else on /metrics would show it.
        if (configStatus is not null)
            meter.CreateObservableGauge("gateway.config.last_reload_success", () => ObserveConfig(configStatus), "{bool}",
                "1 when the last load of the route-class file (start-up or hot reload) was applied, 0 when it was rejected.");
    }

    private static IEnumerable<Measurement<int>> ObserveConfig(Func<IConfigStatusSource?> configStatus) =>
        configStatus() is { } source ? [new Measurement<int>(source.GetConfigStatus().LastReloadSucceeded ? 1 : 0)] : [];

    /// <summary>"2xx" style class of a status code, without allocation.</summary>
    public static string StatusClass(int statusCode)
    {
        int index = statusCode / 100;
        return (uint)index < (uint)StatusClasses.Length ? StatusClasses[index] : "other";
    }

    public void RecordRequest(double seconds, string tier, string routeClass, int statusCode)
    {
        if (!_requestDuration.Enabled) return;
        var tags = new TagList { { "tier", tier }, { "route_class", routeClass }, { "status_class", StatusClass(statusCode) } };
        _requestDuration.Record(seconds, tags);
    }

    public void RecordOverBudget(string tier, string routeClass)
    {
        var tags = new TagList { { "tier", tier }, { "route_class", routeClass } };
        _overBudget.Add(1, tags);
    }

    /// <summary>Records one session validation; <paramref name="source"/> is l1, l2, backend, negative, expired, rejected or throttled.</summary>
    public void RecordSessionValidation(string source, double seconds)
    {
        var tags = new TagList { { "source", source } };
        _validationDuration.Record(seconds, tags);
        _validations.Add(1, tags);
    }

    /// <summary>Records a cache lookup. <paramref name="cache"/>: response or session; <paramref name="level"/>: l1 or l2.</summary>
    public void RecordCacheLookup(string cache, string level, bool hit)
    {
        var tags = new TagList { { "cache", cache }, { "level", level }, { "result", hit ? "hit" : "miss" } };
        _cacheLookups.Add(1, tags);
    }

    public void RecordRedisCall(string operation, double seconds)
    {
        var tags = new TagList { { "op", operation } };
        _redisDuration.Record(seconds, tags);
    }

    public void RecordRedisFailure(string operation, string error)
    {
        var tags = new TagList { { "op", operation }, { "error", error } };
        _redisFailures.Add(1, tags);
    }

    /// <summary>Records one forwarder failure; <paramref name="cause"/> is client or backend (ForwarderErrors).</summary>
    public void RecordProxyError(string cluster, string error, string cause)
    {
        var tags = new TagList { { "cluster", cluster }, { "error", error }, { "cause", cause } };
        _proxyErrors.Add(1, tags);
    }

    private static List<Measurement<int>> ObserveBreakers(IEnumerable<IBreakerStateSource> sources)
    {
        // Scrape-time only (not the hot path): allocation here is fine.
        var result = new List<Measurement<int>>();
        foreach (var source in sources)
        {
            foreach (var breaker in source.GetBreakerStates())
            {
                result.Add(new Measurement<int>((int)breaker.State, new KeyValuePair<string, object?>("name", breaker.Name)));
            }
        }
        return result;
    }
}
