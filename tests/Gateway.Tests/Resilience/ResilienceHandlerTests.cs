using System.Net;
using Gateway.Resilience;
using Gateway.Tests.PolicyTesting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using WireMock.ResponseBuilders;
using WireMock.Server;
using Stub = WireMock.RequestBuilders.Request;

namespace Gateway.Tests.Resilience;

public sealed class ResilienceHandlerTests : IAsyncLifetime
{
    // A programmable fake: each test states the answer (status, headers, delay) in one line.
    private WireMockServer _backend = null!;
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private readonly CountingHandler _counting = new(new SocketsHttpHandler());
    private BackendResilience _resilience = null!;
    private HttpClient _client = null!;

    public ValueTask InitializeAsync()
    {
        _backend = WireMockServer.Start();
        _resilience = new BackendResilience(Options.Create(new BackendResilienceOptions
        {
            MinimumThroughput = 5,
            FailureRatio = 0.5,
            SamplingDuration = TimeSpan.FromSeconds(30),
            BreakDuration = TimeSpan.FromSeconds(15),
            // Zero: Polly then waits on no timer, which the fake clock would only fire when advanced.
            RetryBaseDelay = TimeSpan.Zero,
            DefaultTimeout = TimeSpan.FromSeconds(5),
        }), _clock);
        _client = new HttpClient(new ResilienceHandler(_resilience, _counting));
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        _backend.Stop();
        _backend.Dispose();
        return ValueTask.CompletedTask;
    }

    private void Answer(Func<IResponseBuilder, IResponseBuilder> response)
    {
        _backend.ResetMappings();
        _backend.Given(Stub.Create().UsingAnyMethod()).RespondWith(response(Response.Create()));
    }

    /// <summary>Requests the backend answered. WireMock logs a request once it has answered, so wait for the count.</summary>
    private async Task<int> BackendRequestsAsync(int expected)
    {
        await Poll.UntilAsync(() => _backend.LogEntries.Count() >= expected, $"the backend logged {expected} requests");
        return _backend.LogEntries.Count();
    }

    private HttpRequestMessage Request(HttpMethod method, string path = "/x", TimeSpan? timeout = null)
    {
        var request = new HttpRequestMessage(method, _backend.Url + path);
        request.Options.Set(ResilienceHandler.ClusterKey, "accounts");
        if (timeout is { } t) request.Options.Set(ResilienceHandler.TimeoutKey, t);
        if (method == HttpMethod.Post) request.Content = new StringContent("{}");
        return request;
    }

    [Fact]
    public async Task Backend502s_OpenTheBreaker_ThenOpenBreakerAnswers503WithoutTouchingBackend_ThenHalfOpenProbeCloses()
    {
        Answer(r => r.WithStatusCode(502));
        for (int i = 0; i < 5; i++)
        {
            using var r = await _client.SendAsync(Request(HttpMethod.Get));
            Assert.Equal(HttpStatusCode.BadGateway, r.StatusCode);
        }
        Assert.Equal(CircuitState.Open, _resilience.Snapshot()["accounts"]);
        Assert.Equal(5, await BackendRequestsAsync(5)); // a 5xx answer is never retried

        using (var open = await _client.SendAsync(Request(HttpMethod.Get)))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, open.StatusCode);
            Assert.Equal("circuit-open", open.Headers.GetValues(ResilienceHandler.FaultHeader).Single());
            // The problem names the cluster: with several teams behind the edge, "the backend" says nothing.
            using var problem = System.Text.Json.JsonDocument.Parse(await open.Content.ReadAsStringAsync());
            Assert.Equal("https://gateway.dev/problems/circuit-open", problem.RootElement.GetProperty("type").GetString());
            Assert.Contains("'", problem.RootElement.GetProperty("detail").GetString());
            Assert.False(string.IsNullOrEmpty(problem.RootElement.GetProperty("cluster").GetString()));
            Assert.InRange(open.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 15);
        }
        Assert.Equal(5, await BackendRequestsAsync(5));

        Answer(r => r.WithBody("recovered"));
        _clock.Advance(TimeSpan.FromSeconds(16));
        using (var probe = await _client.SendAsync(Request(HttpMethod.Get)))
            Assert.Equal(HttpStatusCode.OK, probe.StatusCode);
        Assert.Equal(6, await BackendRequestsAsync(6));
        Assert.Equal(CircuitState.Closed, _resilience.Snapshot()["accounts"]);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(501)]
    [InlineData(505)]
    [InlineData(400)]
    [InlineData(413)]
    [InlineData(429)]
    public async Task AnswersThatBlameOneRequest_NeverOpenTheBreaker(int status)
    {
        // A 500 is one request failing on a backend that answers: shared by every client, the breaker must not let one
        // client who found a bad input open it for all (issue 14, docs/policies.md).
        Answer(r => r.WithStatusCode(status));
        for (int i = 0; i < 50; i++)
        {
            using var r = await _client.SendAsync(Request(HttpMethod.Post));
            Assert.Equal(status, (int)r.StatusCode);
            Assert.False(r.Headers.Contains(ResilienceHandler.FaultHeader));
        }
        Assert.Equal(CircuitState.Closed, _resilience.Snapshot()["accounts"]);
    }

    [Theory]
    [InlineData(502)]
    [InlineData(504)]
    public async Task BackendUnavailableAnswers_OpenTheBreaker(int status)
    {
        Answer(r => r.WithStatusCode(status));
        for (int i = 0; i < 5; i++) using (await _client.SendAsync(Request(HttpMethod.Post))) { }
        Assert.Equal(CircuitState.Open, _resilience.Snapshot()["accounts"]);
    }

    /// <summary>
    /// SocketsHttpHandler reports its ConnectTimeout as a cancellation around a TimeoutException while the caller's token
    /// is not cancelled. It fell through as neither a failure nor the caller's cancellation and counted as a success: a
    /// blackholed destination never opened the breaker, and closed a half-open one.
    /// </summary>
    [Fact]
    public async Task AConnectTimeout_CountsAsAFailure_AndOpensTheBreaker()
    {
        using var client = new HttpClient(new ResilienceHandler(_resilience, new ConnectTimingOut()));
        for (int i = 0; i < 5; i++)
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.SendAsync(Request(HttpMethod.Post)));
        Assert.Equal(CircuitState.Open, _resilience.Snapshot()["accounts"]);
        using var refused = await client.SendAsync(Request(HttpMethod.Post));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
    }

    private sealed class ConnectTimingOut : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromException<HttpResponseMessage>(new TaskCanceledException("The connect timed out.", new TimeoutException("connect")));
    }

    [Fact]
    public async Task HandlerBoundToACluster_CountsEveryRequestOnItsBreaker()
    {
        Answer(r => r.WithBody("ok"));
        using var bound = new HttpClient(new ResilienceHandler(_resilience, new SocketsHttpHandler(), cluster: "orders"));
        using (var r = await bound.GetAsync(_backend.Url + "/x")) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using (var r = await bound.SendAsync(Request(HttpMethod.Get))) Assert.Equal(HttpStatusCode.OK, r.StatusCode);   // names "accounts"
        Assert.Equal(["orders"], _resilience.Snapshot().Keys);
    }

    [Fact]
    public async Task Backend503WithRetryAfter_IsBackPressure_AndNeverOpensTheBreaker()
    {
        // A healthy backend shedding an expensive endpoint (the login bulkhead) must not take the whole cluster down.
        Answer(r => r.WithStatusCode(503).WithHeader("Retry-After", "1"));
        for (int i = 0; i < 20; i++)
        {
            using var r = await _client.SendAsync(Request(HttpMethod.Post));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode);
            Assert.False(r.Headers.Contains(ResilienceHandler.FaultHeader));
        }
        Assert.Equal(CircuitState.Closed, _resilience.Snapshot()["accounts"]);
        Assert.Equal(20, await BackendRequestsAsync(20));

        // The same status without Retry-After is a failing backend and does count.
        Answer(r => r.WithStatusCode(503));
        // 25 failures after 20 successes in the sampling window: ratio above 0.5.
        for (int i = 0; i < 25; i++) using (await _client.SendAsync(Request(HttpMethod.Post))) { }
        Assert.Equal(CircuitState.Open, _resilience.Snapshot()["accounts"]);
    }

    [Fact]
    public async Task SlowBackend_Answers504_AndTimeoutsCountAsBreakerFailures()
    {
        Answer(r => r.WithDelay(TimeSpan.FromSeconds(10)));
        for (int i = 0; i < 5; i++)
        {
            var pending = _client.SendAsync(Request(HttpMethod.Get, timeout: TimeSpan.FromMilliseconds(100)));
            // The attempt's time-out timer is set before the attempt is sent; once it is on its way, move the clock.
            int sent = i + 1;
            await Poll.UntilAsync(() => _counting.Attempts >= sent, "the attempt is sent");
            _clock.Advance(TimeSpan.FromMilliseconds(100));
            using var r = await pending;
            Assert.Equal(HttpStatusCode.GatewayTimeout, r.StatusCode);
            Assert.Equal("timeout", r.Headers.GetValues(ResilienceHandler.FaultHeader).Single());
        }
        Assert.Equal(CircuitState.Open, _resilience.Snapshot()["accounts"]);
    }

    [Fact]
    public async Task KilledBackend_GetIsRetriedOnConnectionRefused_PostIsNot_ThenBreakerOpens()
    {
        _backend.Stop();

        await Assert.ThrowsAsync<HttpRequestException>(() => _client.SendAsync(Request(HttpMethod.Get)));
        Assert.Equal(3, _counting.Attempts); // first attempt + 2 retries

        _counting.Reset();
        await Assert.ThrowsAsync<HttpRequestException>(() => _client.SendAsync(Request(HttpMethod.Post)));
        Assert.Equal(1, _counting.Attempts);

        await Poll.UntilAsync(async () =>
        {
            try
            {
                using var r = await _client.SendAsync(Request(HttpMethod.Post));
                return r.StatusCode == HttpStatusCode.ServiceUnavailable;
            }
            catch (HttpRequestException) { return false; }
        }, "the breaker opens on connection failures");
        Assert.Equal(CircuitState.Open, _resilience.Snapshot()["accounts"]);
    }

    [Fact]
    public void RetryBudget_StopsRetriesOnceSpent_AndRefillsWithTraffic()
    {
        var budget = new RetryBudget(ratio: 0.5, burst: 2);
        Assert.True(budget.TryWithdraw());
        Assert.True(budget.TryWithdraw());
        Assert.False(budget.TryWithdraw());
        budget.OnAttempt();
        budget.OnAttempt();
        Assert.True(budget.TryWithdraw());
    }

    private sealed class CountingHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        private int _attempts;
        public int Attempts => Volatile.Read(ref _attempts);
        public void Reset() => Interlocked.Exchange(ref _attempts, 0);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _attempts);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
