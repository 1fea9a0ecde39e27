using System.Net;
using Gateway.Redis;
using Gateway.Tests.Support;
using TestInfrastructure;

namespace Gateway.Tests.Sessions;

/// <summary>
/// Shipped classes: /users/** is critical-auth (failMode resilient), /audit/** is standard (failMode closed).
/// Each test owns its Redis, because it stops it.
/// </summary>
public sealed class FailModeTests : IAsyncLifetime
{
    private RedisServer _redis = null!;
    private FakeSessionBackend _backend = null!;
    private GatewayInstance _gateway = null!;

    public async ValueTask InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _backend = await FakeSessionBackend.StartAsync();
        _gateway = await GatewayInstance.StartAsync(_backend.BaseUrl, _redis.ConnectionString, RouteFiles.CreateTemp());
        await Poll.UntilAsync(() => _gateway.Get<IRedisClient>().IsAvailable, "the gateway is connected to Redis");
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _backend.DisposeAsync();
        await _redis.DisposeAsync();
    }

    private async Task StopRedis()
    {
        await _redis.StopAsync();
        await Poll.UntilAsync(() => !_gateway.Get<IRedisClient>().IsAvailable, "the gateway sees Redis down");
    }

    [Fact]
    public async Task Closed_WithRedisDown_L1KnownTokenIsRevalidatedByTheBackend_And503WhenBackendFailsToo()
    {
        var session = TestSession.Create();
        _backend.Add(session);
        Assert.Equal(HttpStatusCode.OK, (await _gateway.Client.SendAsync(session.Get("/audit/events"))).StatusCode);
        int calls = _backend.IntrospectionCount;

        await StopRedis();
        Assert.Equal(HttpStatusCode.OK, (await _gateway.Client.SendAsync(session.Get("/audit/events"))).StatusCode);
        Assert.Equal(calls + 1, _backend.IntrospectionCount);

        _backend.IntrospectionFails = true;
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await _gateway.Client.SendAsync(session.Get("/audit/events"))).StatusCode);

        _backend.IntrospectionFails = false;
        _backend.Sessions.TryRemove(session.Hex, out _);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _gateway.Client.SendAsync(session.Get("/audit/events"))).StatusCode);
    }

    [Fact]
    public async Task Resilient_WithRedisAndBackendDown_AcceptsL1KnownTokens_AndNeverUnknownOnes()
    {
        var known = TestSession.Create();
        _backend.Add(known);
        Assert.Equal(HttpStatusCode.OK, (await _gateway.Client.SendAsync(known.Get("/users/me"))).StatusCode);

        await StopRedis();
        // The session service is down (introspection fails); the proxied route itself still answers.
        _backend.IntrospectionFails = true;

        Assert.Equal(HttpStatusCode.OK, (await _gateway.Client.SendAsync(known.Get("/users/me"))).StatusCode);
        var unknown = TestSession.Create();
        var response = await _gateway.Client.SendAsync(unknown.Get("/users/me"));
        Assert.True(response.StatusCode is HttpStatusCode.ServiceUnavailable or HttpStatusCode.Unauthorized, response.StatusCode.ToString());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await _gateway.Client.SendAsync(known.Get("/audit/x"))).StatusCode);
    }
}
