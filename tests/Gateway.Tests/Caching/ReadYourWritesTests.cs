using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Tests.Support;
using TestInfrastructure;

namespace Gateway.Tests.Caching;

/// <summary>
/// A client reads its own write, even when the backend's invalidation message never reaches the gateway: the instance
/// that carried the write evicts the caller's cached responses before answering it. Here the backend publishes on
/// another Redis than the gateway listens to, so only the write's own eviction can make the next read fresh.
/// </summary>
public sealed class ReadYourWritesTests(PostgresFixture postgres) : IAsyncLifetime
{
    private RedisServer _backendRedis = null!;
    private RedisServer _gatewayRedis = null!;
    private BackendProcess _backend = null!;
    private GatewayInstance _gateway = null!;

    public async ValueTask InitializeAsync()
    {
        _backendRedis = await RedisServer.StartAsync();
        _gatewayRedis = await RedisServer.StartAsync();
        _backend = await BackendProcess.StartAsync(await postgres.Server.CreateDatabaseAsync("ryw"), _backendRedis.ConnectionString);
        _gateway = await GatewayInstance.StartAsync(_backend.BaseUrl, _gatewayRedis.ConnectionString, RouteFiles.CreateTemp());
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _backend.DisposeAsync();
        await _gatewayRedis.DisposeAsync();
        await _backendRedis.DisposeAsync();
    }

    [Fact]
    public async Task AProfileChange_IsWhatTheNextAuthMeShows_WithoutTheInvalidationMessage()
    {
        string email = $"ryw-{Guid.NewGuid():N}@example.com";
        Assert.Equal(HttpStatusCode.Created, (await _gateway.Client.PostAsJsonAsync("/auth/register", new { email, password = "correct horse battery staple", name = "Before" })).StatusCode);
        var login = await _gateway.Client.PostAsJsonAsync("/auth/login", new { email, password = "correct horse battery staple" });
        string token = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;

        Assert.Equal("Before", await NameAsync(token));
        var cached = await Send(HttpMethod.Get, "/auth/me", token);
        Assert.Equal("HIT", cached.Headers.GetValues("X-Cache").Single());

        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Put, "/users/profile", token, JsonContent.Create(new { name = "After" }))).StatusCode);

        Assert.Equal("After", await NameAsync(token));
    }

    private async Task<string?> NameAsync(string token) =>
        (await (await Send(HttpMethod.Get, "/auth/me", token)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("name").GetString();

    private Task<HttpResponseMessage> Send(HttpMethod method, string path, string token, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        return _gateway.Client.SendAsync(request);
    }
}
