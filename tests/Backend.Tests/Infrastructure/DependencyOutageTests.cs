using System.Net;
using Backend.Tests.Support;
using TestInfrastructure;

namespace Backend.Tests.Infrastructure;

/// <summary>
/// PostgreSQL down is the backend's failure, not the request's: 503 without Retry-After, which the gateway's breaker
/// counts, unlike a 500 (docs/policies.md). Its own PostgreSQL server: the test stops it.
/// </summary>
public sealed class DependencyOutageTests(RedisFixture redis) : IAsyncLifetime
{
    private PostgresServer _postgres = null!;

    public async ValueTask InitializeAsync() => _postgres = await PostgresServer.StartAsync();
    public async ValueTask DisposeAsync() => await _postgres.DisposeAsync();

    [Fact]
    public async Task PostgresDown_IsAnswered503WithoutRetryAfter_NotA500()
    {
        await using var app = new BackendApp(await _postgres.CreateDatabaseAsync("outage"), redis.ConnectionString);
        using var client = app.CreateClient();
        var login = await client.NewUserAsync();

        await _postgres.StopAsync();
        var response = await client.PostAsync("/auth/login", new StringContent(
            $$"""{"email":"{{login.Email}}","password":"{{Api.Password}}"}""", System.Text.Encoding.UTF8, "application/json"));
        await response.AssertProblemAsync(HttpStatusCode.ServiceUnavailable, "unavailable");
        Assert.Null(response.Headers.RetryAfter);
    }
}
