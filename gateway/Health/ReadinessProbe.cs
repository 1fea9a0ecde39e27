using Gateway.Redis;
using Microsoft.Extensions.Options;

namespace Gateway.Health;

/// <summary>
/// Refreshes <see cref="Current"/> in the background (Redis answers, backend <c>GET /health</c> is 2xx) so that
/// /ready never does I/O per request.
/// </summary>
internal sealed partial class ReadinessProbe(IRedisClient redis, IHttpClientFactory httpClients, IOptions<HealthOptions> options,
    TimeProvider time, ILogger<ReadinessProbe> logger) : BackgroundService
{
    internal const string HttpClientName = "gateway-readiness";
    private const string ProbeKey = "gw:v1:ready-probe";
    private volatile ReadinessState _current = ReadinessState.Starting;

    public ReadinessState Current => _current;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var client = httpClients.CreateClient(HttpClientName);
        while (!stoppingToken.IsCancellationRequested)
        {
            bool redisReady = false;
            if (redis.IsAvailable) redisReady = (await redis.GetStringAsync(ProbeKey).ConfigureAwait(false)).Ok;
            bool backendReady = await BackendHealthyAsync(client, stoppingToken).ConfigureAwait(false);
            var previous = _current;
            _current = new ReadinessState(redisReady, backendReady, time.GetUtcNow());
            if (previous.IsReady != _current.IsReady) Log.ReadinessChanged(logger, _current.IsReady, redisReady, backendReady);
            try { await Task.Delay(options.Value.ProbeInterval, time, stoppingToken).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
        }
    }

    private async Task<bool> BackendHealthyAsync(HttpClient client, CancellationToken stoppingToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        cts.CancelAfter(options.Value.ProbeTimeout);
        try
        {
            using var response = await client.GetAsync("health", cts.Token).ConfigureAwait(false);
            return response.IsSuccessStatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            return false;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1601, LogLevel.Information, "Readiness changed: ready={Ready} (redis={Redis}, backend={Backend}).", EventName = "ReadinessChanged")]
        public static partial void ReadinessChanged(ILogger logger, bool ready, bool redis, bool backend);
    }
}
