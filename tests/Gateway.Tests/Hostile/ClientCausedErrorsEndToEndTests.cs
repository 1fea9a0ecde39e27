using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Gateway.Redis;
using Gateway.Resilience;
using Gateway.Sessions;
using Gateway.Tests.Observability;
using Gateway.Tests.Support;
using Microsoft.Extensions.Logging;
using Polly.CircuitBreaker;
using TestInfrastructure;

namespace Gateway.Tests.Hostile;

/// <summary>
/// "A client's mistake is a 4xx, never a 5xx, and never trips a breaker that other clients depend on", end to end: the
/// real gateway in front of the real backend over h2c (as scripts/run.sh runs them), on real Redis and Postgres. Each
/// test sends one client's odd request more often than the breaker's minimum throughput, then checks that the breaker
/// is closed, that another client is served, and that nothing was logged at Error on either side.
/// </summary>
public sealed class ClientCausedErrorsEndToEndTests(PostgresFixture postgres) : IAsyncLifetime
{
    private const string Password = "correct horse battery staple";
    private RedisServer _redis = null!;
    private BackendProcess _backend = null!;
    private GatewayInstance _gateway = null!;
    private readonly CapturingLoggerProvider _logs = new();

    public async ValueTask InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        string database = await postgres.Server.CreateDatabaseAsync("client-errors");
        string h2c = $"http://127.0.0.1:{FreePort.Next()}";
        _backend = await BackendProcess.StartAsync(database, _redis.ConnectionString, $"--Backend:H2cUrls={h2c}");
        // Clients are told apart by X-Forwarded-For from the trusted loopback peer; the login limit is raised so that the
        // odd client's requests reach the backend instead of being answered 429 by the gateway.
        string routes = RouteFiles.CreateTemp(j => j["rateLimitPolicies"]!["login"]!["limit"] = 100000);
        _gateway = await GatewayInstance.StartAsync(_backend.BaseUrl, _redis.ConnectionString, routes, b => b.Logging.AddProvider(_logs),
            $"--Backend:H2cUrl={h2c}", "--RateLimiting:TrustedProxies:0=127.0.0.1");
        await Poll.UntilAsync(() => _gateway.Get<InvalidationSubscriber>().IsSubscribed && _gateway.Get<IRedisClient>().IsAvailable, "the gateway is on Redis");
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _backend.DisposeAsync();
        await _redis.DisposeAsync();
    }

    private CircuitState BackendBreaker => _gateway.Get<IBreakerStates>().Snapshot().GetValueOrDefault("backend", CircuitState.Closed);

    private static string RandomClient() => $"2001:db8::{Random.Shared.Next(1, 0xffff):x}:{Random.Shared.Next(1, 0xffff):x}";

    private async Task<(string Email, string Token)> NewUserAsync()
    {
        string email = $"client-errors-{Guid.NewGuid():N}@example.com";
        Assert.Equal(HttpStatusCode.Created, (await _gateway.Client.PostAsJsonAsync("/auth/register", new { email, password = Password, name = "C" })).StatusCode);
        using var login = await _gateway.Client.PostAsJsonAsync("/auth/login", new { email, password = Password });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        return (email, (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!);
    }

    /// <summary>Another client, with a valid login, is served; the breaker is closed; neither service logged an Error.</summary>
    private async Task AssertOthersUnaffectedAsync()
    {
        Assert.Equal(CircuitState.Closed, BackendBreaker);
        var valid = new HttpRequestMessage(HttpMethod.Post, "/auth/register")
        {
            Content = JsonContent.Create(new { email = $"other-{Guid.NewGuid():N}@example.com", password = Password, name = "Other" }),
        };
        valid.Headers.Add("X-Forwarded-For", RandomClient());
        using var response = await _gateway.Client.SendAsync(valid);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.DoesNotContain(_logs.Entries, e => e.Level >= LogLevel.Error);
        Assert.DoesNotContain(" fail: ", _backend.Output, StringComparison.Ordinal);
    }

    /// <summary>
    /// Kestrel accepts header values in UTF-8 (it reads request headers as ASCII or UTF-8), so a client can send one, and
    /// browsers do (a non-ASCII file name, a localised User-Agent). The backend connection encoded request headers as
    /// ASCII only: HttpClient threw "Request headers must contain only ASCII characters", the client got an empty 502
    /// and the breaker counted it as the backend failing, so a handful of such requests answered every client
    /// 503 circuit-open.
    /// </summary>
    [Fact]
    public async Task NonAsciiHeaderValues_AreForwardedAsSent_NotA502_AndDoNotOpenTheBreaker()
    {
        var (email, _) = await NewUserAsync();
        using var utf8Client = new HttpClient(new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8 })
        {
            BaseAddress = new Uri(_gateway.BaseUrl),
        };
        string client = RandomClient();
        string token = "";
        var statuses = new List<int>();
        for (int i = 0; i < 20; i++)
        {
            var login = new HttpRequestMessage(HttpMethod.Post, "/auth/login") { Content = JsonContent.Create(new { email, password = Password }) };
            login.Headers.Add("X-Forwarded-For", client);
            login.Headers.TryAddWithoutValidation("User-Agent", "Navigateur café/1.0");
            login.Headers.TryAddWithoutValidation("X-Upload-Name", "résumé.pdf");
            using var response = await utf8Client.SendAsync(login);
            statuses.Add((int)response.StatusCode);
            if (response.StatusCode == HttpStatusCode.OK) token = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
        }
        Assert.True(statuses.All(s => s == 200), $"statuses: {string.Join(",", statuses)}; breaker {BackendBreaker}");

        // Nothing was lost on the way: the backend stored the User-Agent as the client sent it.
        var sessions = new HttpRequestMessage(HttpMethod.Get, "/users/me/sessions");
        sessions.Headers.Authorization = new("Bearer", token);
        using var list = await _gateway.Client.SendAsync(sessions);
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        var items = (await list.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("items").EnumerateArray();
        Assert.Contains(items, s => s.GetProperty("userAgent").GetString() == "Navigateur café/1.0");
        await AssertOthersUnaffectedAsync();
    }

    /// <summary>
    /// The charset of a JSON body, through the gateway (which passes it to the backend on every route but login and
    /// registration). The backend's JSON reader threw for a charset no encoding answers to, and for the quoted spelling
    /// of UTF-8 RFC 9110 allows: a 500 logged at Error each time.
    /// </summary>
    [Fact]
    public async Task AJsonBodysCharset_QuotedUtf8IsRead_AndAnUnknownOneIs415_Never500()
    {
        var (_, token) = await NewUserAsync();
        HttpRequestMessage Profile(string contentType, string name)
        {
            var request = new HttpRequestMessage(HttpMethod.Put, "/users/profile") { Content = new ByteArrayContent(Encoding.UTF8.GetBytes($$"""{"name":"{{name}}"}""")) };
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
            request.Headers.Authorization = new("Bearer", token);
            return request;
        }

        using (var quoted = await _gateway.Client.SendAsync(Profile("application/json; charset=\"utf-8\"", "Zoë")))
        {
            Assert.Equal(HttpStatusCode.OK, quoted.StatusCode);
            Assert.Equal("Zoë", (await quoted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("name").GetString());
        }
        var statuses = new List<string>();
        foreach (string contentType in new[] { "application/json; charset=x-no-such-charset", "application/json; charset=", "application/json; charset=\"\"" })
            for (int i = 0; i < 5; i++)
            {
                using var response = await _gateway.Client.SendAsync(Profile(contentType, "X"));
                statuses.Add($"{(int)response.StatusCode} {response.Content.Headers.ContentType?.MediaType}");
            }
        Assert.All(statuses, s => Assert.Equal("415 application/problem+json", s));
        await AssertOthersUnaffectedAsync();
    }
}
