using System.Net;
using Gateway.Resilience;
using Gateway.Tests.PolicyTesting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using TestInfrastructure;

namespace Gateway.Tests.Resilience;

/// <summary>
/// The cluster breaker with several destinations: a failing destination is health's business while others remain in
/// rotation; a refused connection goes to another destination instead of the client.
/// </summary>
public sealed class ClusterBreakerScopeTests : IAsyncLifetime
{
    private sealed class FakeDestinations : IClusterDestinations
    {
        public int Available = 2;
        public Uri? Next;
        public int AvailableCount(string cluster) => Available;
        public Uri? FailoverTarget(string cluster, Uri failed, List<Uri> tried) => tried.Count == 0 ? Next : null;
    }

    private RecordingBackend _backend = null!;
    private readonly FakeDestinations _destinations = new();
    private readonly Microsoft.Extensions.Time.Testing.FakeTimeProvider _clock = new();
    private BackendResilience _resilience = null!;
    private HttpClient _client = null!;

    public async ValueTask InitializeAsync()
    {
        _backend = await RecordingBackend.StartAsync();
        _resilience = new BackendResilience(Options.Create(new BackendResilienceOptions
        {
            MinimumThroughput = 5, FailureRatio = 0.5, SamplingDuration = TimeSpan.FromSeconds(30), MaxRetryAttempts = 0,
        }), _clock, _destinations);
        _client = new HttpClient(new ResilienceHandler(_resilience, new SocketsHttpHandler(), "orders"));
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _backend.DisposeAsync();
    }

    [Fact]
    public async Task FailuresOfOneDestination_DoNotOpenTheBreaker_WhileAnotherIsAvailable_ButDoWhenItIsTheLast()
    {
        _backend.Handler = ctx => { ctx.Response.StatusCode = 502; return Task.CompletedTask; };
        for (int i = 0; i < 10; i++) (await _client.GetAsync(_backend.BaseUrl + "/x")).Dispose();
        Assert.Equal(CircuitState.Closed, _resilience.Snapshot()["orders"]);

        // Uncounted failures are the breaker's successes: a new sampling window, so only what follows decides.
        _clock.Advance(TimeSpan.FromSeconds(31));
        _destinations.Available = 1;
        for (int i = 0; i < 5; i++) (await _client.GetAsync(_backend.BaseUrl + "/x")).Dispose();
        Assert.Equal(CircuitState.Open, _resilience.Snapshot()["orders"]);
    }

    [Fact]
    public async Task RefusedConnection_FailsOverToAnotherDestination_WithPathAndQueryUnchanged()
    {
        int dead = FreePort.Next();   // nothing listens: connection refused
        _destinations.Next = new Uri(_backend.BaseUrl + "/orders/1?x=%2F");
        using var response = await _client.GetAsync($"http://127.0.0.1:{dead}/orders/1?x=%2F");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(_backend.Requests);
        Assert.Equal(("/orders/1", "?x=%2F"), (received.Path, received.Query));

        // A request with a body is not failed over: the client's streamed body cannot be sent twice.
        await Assert.ThrowsAsync<HttpRequestException>(() => _client.PostAsync($"http://127.0.0.1:{dead}/orders", new StringContent("{}")));
        Assert.Single(_backend.Requests);
    }
}
