using System.Globalization;
using System.Net;
using Gateway.Tests.Support;
using TestInfrastructure;

namespace Gateway.Tests.Observability;

/// <summary>
/// <c>Server-Timing</c>: off unless an operator sets <c>Observability:ServerTiming:Enabled</c> (it tells clients how long
/// each stage took); on, it names each stage the request went through, with <c>total</c> equal to X-Response-Time.
/// </summary>
public sealed class ServerTimingTests(RedisFixture redis) : IAsyncLifetime
{
    private FakeSessionBackend _backend = null!;
    private GatewayInstance _on = null!, _off = null!;

    public async ValueTask InitializeAsync()
    {
        _backend = await FakeSessionBackend.StartAsync();
        string routes = RouteFiles.CreateTemp();
        _on = await GatewayInstance.StartAsync(_backend.BaseUrl, redis.ConnectionString, routes, null, "--Observability:ServerTiming:Enabled=true");
        _off = await GatewayInstance.StartAsync(_backend.BaseUrl, redis.ConnectionString, routes);
    }

    public async ValueTask DisposeAsync()
    {
        await _on.DisposeAsync();
        await _off.DisposeAsync();
        await _backend.DisposeAsync();
    }

    [Fact]
    public async Task Enabled_CacheMissThenHit_NamesEveryStageTheRequestRan()
    {
        var session = TestSession.Create();
        _backend.Add(session);

        var miss = await _on.Client.SendAsync(session.Get("/auth/me"));
        var hit = await _on.Client.SendAsync(session.Get("/auth/me"));

        Assert.Equal(HttpStatusCode.OK, miss.StatusCode);
        Assert.Equal("MISS", miss.Headers.GetValues("X-Cache").Single());
        var missTimings = Parse(miss);
        Assert.Equal(["classify", "validate", "limit", "cache", "upstream", "total"], missTimings.Select(t => t.Name));
        Assert.Equal(double.Parse(miss.Headers.GetValues("X-Response-Time").Single(), CultureInfo.InvariantCulture), Ms(missTimings, "total"));
        Assert.True(Ms(missTimings, "upstream") <= Ms(missTimings, "total"), string.Join(", ", missTimings));

        Assert.Equal("HIT", hit.Headers.GetValues("X-Cache").Single());
        var hitTimings = Parse(hit);
        // Answered from the cache: the backend was not called.
        Assert.Equal(["classify", "validate", "limit", "cache", "total"], hitTimings.Select(t => t.Name));
    }

    [Fact]
    public async Task Enabled_AnonymousRequest_HasNoValidateStage()
    {
        var response = await _on.Client.PostAsync("/auth/register", new StringContent("{}"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var timings = Parse(response);
        var names = timings.Select(t => t.Name).ToArray();
        Assert.DoesNotContain("validate", names);
        Assert.Equal("classify", names[0]);
        Assert.Equal(["upstream", "total"], names[^2..]);
    }

    [Fact]
    public async Task Disabled_ByDefault_NoServerTimingHeader()
    {
        var session = TestSession.Create();
        _backend.Add(session);

        var response = await _off.Client.SendAsync(session.Get("/auth/me"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Headers.Contains("X-Response-Time"));
        Assert.False(response.Headers.Contains("Server-Timing"));
    }

    /// <summary>The entries in header order, e.g. <c>classify;dur=0.004, total;dur=1.250</c>.</summary>
    private static List<(string Name, double Ms)> Parse(HttpResponseMessage response)
    {
        string header = Assert.Single(response.Headers.GetValues("Server-Timing"));
        var timings = new List<(string Name, double Ms)>();
        foreach (string entry in header.Split(", "))
        {
            var parts = entry.Split(";dur=");
            Assert.Equal(2, parts.Length);
            double ms = double.Parse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture);
            Assert.True(ms >= 0, header);
            timings.Add((parts[0], ms));
        }
        return timings;
    }

    private static double Ms(List<(string Name, double Ms)> timings, string name) => timings.Single(t => t.Name == name).Ms;
}
