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
        // The per-user limit as a window that does not refill during the test, so each request's remaining count is lower.
        _gateway = await GatewayInstance.StartAsync(_backend.BaseUrl, _gatewayRedis.ConnectionString, RouteFiles.CreateTemp(j =>
            j["rateLimitPolicies"]!["per-user"] = new System.Text.Json.Nodes.JsonObject
            {
                ["algorithm"] = "sliding-window", ["limit"] = 1000, ["windowSeconds"] = 3600, ["partition"] = "user",
            }));
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

    [Fact]
    public async Task AHit_CarriesThisRequestsRateLimitState_NotTheFillingRequests()
    {
        // The output cache copies the entry's headers over the response's on a hit: RateLimit (and X-Route-Class) were
        // the filling request's, so a client nearing its limit was told it had the remaining count of a request long past.
        string email = $"ryw-rl-{Guid.NewGuid():N}@example.com";
        await _gateway.Client.PostAsJsonAsync("/auth/register", new { email, password = "correct horse battery staple", name = "Limits" });
        var login = await _gateway.Client.PostAsJsonAsync("/auth/login", new { email, password = "correct horse battery staple" });
        string token = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;

        var answers = new List<(string Cache, int Remaining)>();
        for (int i = 0; i < 5; i++)
        {
            using var response = await Send(HttpMethod.Get, "/auth/me", token);
            string rateLimit = response.Headers.GetValues("RateLimit").Single();
            int r = int.Parse(rateLimit.Split(";r=")[1].Split(';')[0], System.Globalization.CultureInfo.InvariantCulture);
            answers.Add((response.Headers.GetValues("X-Cache").Single(), r));
            Assert.Equal("critical-auth-cached", response.Headers.GetValues("X-Route-Class").Single());
        }

        Assert.Equal("MISS", answers[0].Cache);
        Assert.All(answers.Skip(1), a => Assert.Equal("HIT", a.Cache));
        for (int i = 1; i < answers.Count; i++)
            Assert.True(answers[i].Remaining <= answers[i - 1].Remaining, string.Join(", ", answers));
        Assert.True(answers[^1].Remaining < answers[0].Remaining, string.Join(", ", answers));
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
