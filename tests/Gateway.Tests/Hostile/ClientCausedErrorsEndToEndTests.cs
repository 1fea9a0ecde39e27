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
        // The session class's timeout is shortened (below Kestrel's 5 s body-rate grace) so a stalled body ends at the deadline, fast.
        string routes = RouteFiles.CreateTemp(j =>
        {
            j["rateLimitPolicies"]!["login"]!["limit"] = 100000;
            j["classes"]!["critical-auth"]!["timeoutMs"] = 2000;
        });
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
        var errors = _logs.Entries.Where(e => e.Level >= LogLevel.Error).Select(e => $"{e.Category} {e.EventId.Name}: {e.Message}").ToList();
        Assert.True(errors.Count == 0, "logged at Error:\n" + string.Join("\n", errors));
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

    /// <summary>
    /// A body that stops short of its Content-Length on a session route. The gateway forwards the headers and streams the
    /// body to the backend, which waits for the rest; the class's deadline ends it. The client's delay: docs/hardening.md
    /// promises a 408 request-body-timeout problem, not counted on the breaker.
    /// </summary>
    [Fact]
    public async Task ABodyThatStopsShortOfItsContentLength_Is408Problem_NotA504()
    {
        var (_, token) = await NewUserAsync();
        int port = new Uri(_gateway.BaseUrl).Port;
        string request = $"PUT /users/profile HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\n" +
            "Content-Length: 100\r\n\r\n{\"name\":\"x\"";
        int overBudgetBefore = _logs.Entries.Count(e => e.EventId.Name == "RequestOverBudget");
        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => RawHttp.SendAsync(port, request, TimeSpan.FromSeconds(15))));
        Assert.All(responses, r =>
        {
            Assert.True(r.Status == 408 && r.Text.Contains("request-body-timeout", StringComparison.Ordinal), r.Text);
        });
        // The time went to the client: not the gateway over its budget (ClientTimeOverBudgetTests covers HTTP/1.1).
        Assert.Equal(overBudgetBefore, _logs.Entries.Count(e => e.EventId.Name == "RequestOverBudget"));
        // Nothing at Error: Kestrel logged RequestBodyDrainBodyReaderInvalidState for each of these while the forwarder's
        // body read was cancelled by its token, which left Kestrel's body reader "reading" (ClientBodyWatch).
        await AssertOthersUnaffectedAsync();
    }
}
