using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Tests.Support;
using TestInfrastructure;

namespace Gateway.Tests.RateLimiting;

/// <summary>
/// Third-party lockout, end to end: the real backend and the gateway on real Redis and Postgres, with the shipped login
/// policy (10 attempts a minute per address and per account). Strangers from other addresses spend the account's budget
/// at both layers; the owner's client, sending back the device token the backend answered at its last login, still
/// signs in. This also proves the two sides agree on the token: the gateway checks a token the backend issued, with the
/// key both derive from Trust:InternalSecret and the account both normalise the same way.
/// </summary>
public sealed class LoginLockoutEndToEndTests(PostgresFixture postgres) : IAsyncLifetime
{
    private RedisServer _redis = null!;   // its own: the counters of the login policy's addresses start at zero
    private BackendProcess _backend = null!;
    private GatewayInstance _gateway = null!;

    public async ValueTask InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _backend = await BackendProcess.StartAsync(await postgres.Server.CreateDatabaseAsync("lockout"), _redis.ConnectionString);
        string routes = RouteFiles.CreateTemp(json => json["rateLimitPolicies"]!["login"]!["limit"] = 10);
        // Clients are told apart by X-Forwarded-For from the test's loopback "balancer".
        _gateway = await GatewayInstance.StartAsync(_backend.BaseUrl, _redis.ConnectionString, routes, null, "--RateLimiting:TrustedProxies:0=127.0.0.1");
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _backend.DisposeAsync();
        await _redis.DisposeAsync();
    }

    private Task<HttpResponseMessage> Login(string client, object body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/auth/login") { Content = JsonContent.Create(body) };
        request.Headers.Add("X-Forwarded-For", client);
        return _gateway.Client.SendAsync(request);
    }

    [Fact]
    public async Task StrangersSpendingTheAccountsBudget_AtGatewayAndBackend_DoNotStopTheOwnersDevice()
    {
        string email = $"owner-{Guid.NewGuid():N}@example.com";
        const string password = "correct horse battery staple";
        var register = new HttpRequestMessage(HttpMethod.Post, "/auth/register") { Content = JsonContent.Create(new { email, password, name = "Owner" }) };
        register.Headers.Add("X-Forwarded-For", "192.0.2.1");
        Assert.Equal(HttpStatusCode.Created, (await _gateway.Client.SendAsync(register)).StatusCode);
        using var first = await Login("192.0.2.1", new { email, password });
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        string device = (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("deviceToken").GetString()!;

        // Ten strangers' guesses from ten addresses: the backend's account budget (5 failures) and the gateway's (10 attempts) are spent.
        var strangers = new List<HttpStatusCode>();
        for (int i = 0; i < 10; i++)
            strangers.Add((await Login($"203.0.113.{i + 1}", new { email, password = "wrong password 123" })).StatusCode);
        Assert.Equal(5, strangers.Count(s => s == HttpStatusCode.Unauthorized));
        Assert.Equal(5, strangers.Count(s => s == HttpStatusCode.TooManyRequests));
        using var blocked = await Login("198.51.100.1", new { email, password });
        Assert.Equal(HttpStatusCode.TooManyRequests, blocked.StatusCode);
        Assert.Contains("rate-limited", await blocked.Content.ReadAsStringAsync());   // refused at the gateway, the backend never saw it

        using var owner = await Login("198.51.100.2", new { email, password, deviceToken = device });
        Assert.True(owner.StatusCode == HttpStatusCode.OK, await owner.Content.ReadAsStringAsync());
        Assert.False(string.IsNullOrEmpty((await owner.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()));
    }
}
