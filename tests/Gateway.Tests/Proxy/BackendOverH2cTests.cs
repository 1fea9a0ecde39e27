using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Redis;
using Gateway.Sessions;
using Gateway.Tests.Support;
using TestInfrastructure;

namespace Gateway.Tests.Proxy;

/// <summary>
/// The stack as scripts/run.sh starts it: the backend with an HTTP/2-only listener (<c>Backend:H2cUrls</c>) and the
/// gateway proxying to it (<c>Backend:H2cUrl</c>). Everything the product promises still holds over HTTP/2, and the
/// backend's own request metrics show the proxied calls arrived over HTTP/2, not over its HTTP/1.1 port.
/// </summary>
public sealed class BackendOverH2cTests(PostgresFixture postgres) : IAsyncLifetime
{
    private RedisServer _redis = null!;
    private BackendProcess _backend = null!;
    private GatewayInstance _gateway = null!;
    private string _h2cUrl = null!;

    public async ValueTask InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        string database = await postgres.Server.CreateDatabaseAsync("h2c");
        string h2c = _h2cUrl = $"http://127.0.0.1:{FreePort.Next()}";
        _backend = await BackendProcess.StartAsync(database, _redis.ConnectionString, $"--Backend:H2cUrls={h2c}");
        // The edge's own slow-body check later than the backend's (an operator may allow slow clients more time): what a
        // stalled body does to the shared connection must not depend on which check fires first.
        _gateway = await GatewayInstance.StartAsync(_backend.BaseUrl, _redis.ConnectionString, RouteFiles.CreateTemp(), null, $"--Backend:H2cUrl={h2c}",
            "--Kestrel:Limits:MinRequestBodyDataRate:GracePeriod=00:00:20");
        await Poll.UntilAsync(() => _gateway.Get<InvalidationSubscriber>().IsSubscribed && _gateway.Get<IRedisClient>().IsAvailable, "the gateway is on Redis");
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _backend.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task RegisterLoginProfileAndLogout_WorkOverHttp2_AndTheRevokedTokenIsRefused()
    {
        string email = $"h2c-{Guid.NewGuid():N}@example.com";
        var register = await _gateway.Client.PostAsJsonAsync("/auth/register", new { email, password = "correct horse battery staple", name = "Before" });
        Assert.Equal(HttpStatusCode.Created, register.StatusCode);
        var login = await _gateway.Client.PostAsJsonAsync("/auth/login", new { email, password = "correct horse battery staple" });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        string token = (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;

        // The backend checks the gateway's signature (query included) and reads the identity from the signed headers.
        Assert.Equal("Before", (await JsonOf(await Send(HttpMethod.Get, "/auth/me", token))).GetProperty("name").GetString());
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Get, "/users/me/sessions?limit=10", token)).StatusCode);
        var update = await Send(HttpMethod.Put, "/users/profile", token, JsonContent.Create(new { name = "After" }));
        Assert.Equal(HttpStatusCode.OK, update.StatusCode);
        // The cached /auth/me was evicted by the backend's invalidation.
        await Poll.UntilAsync(async () => (await JsonOf(await Send(HttpMethod.Get, "/auth/me", token))).GetProperty("name").GetString() == "After",
            "the cached /auth/me shows the new name");

        Assert.Equal(HttpStatusCode.NoContent, (await Send(HttpMethod.Post, "/auth/logout", token)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send(HttpMethod.Get, "/users/me/sessions", token)).StatusCode);

        // The backend counts a request as it ends, which can be just after the gateway has its answer: poll.
        string[] routes = ["/auth/register", "/auth/login", "/users/profile", "/auth/logout"];
        string metrics = "";
        using var scraper = new HttpClient();
        await Poll.UntilAsync(async () =>
        {
            metrics = await scraper.GetStringAsync(_backend.BaseUrl + "/metrics");
            return routes.All(route => Served(metrics, route, "2"));
        }, "the backend counts every route as served over HTTP/2");
        foreach (var route in routes) Assert.False(Served(metrics, route, "1.1"), $"{route} was served over HTTP/1.1 too");
    }

    [Fact]
    public async Task GatewayStatus_ShowsTheBackendClusterOnH2c_AtTheH2cAddress()
    {
        using var status = JsonDocument.Parse(await _gateway.AdminClient.GetStringAsync("/gateway/status"));
        var backend = status.RootElement.GetProperty("clusters").GetProperty("clusters").GetProperty("backend");

        Assert.Equal("h2c", backend.GetProperty("protocol").GetString());
        Assert.StartsWith(_h2cUrl, backend.GetProperty("destinations").GetProperty("primary").GetProperty("address").GetString());
    }

    [Fact]
    public async Task ClientsStallingTheirBodies_DoNotBreakTheSharedConnection_NorOpenTheBreaker()
    {
        // Every proxied request shares the gateway's HTTP/2 connection to the backend. Kestrel's minimum request body data
        // rate on that connection aborted all of it when a few streams stalled (one user's uploads), failing the other
        // clients' requests on it and opening the backend breaker for everyone (found by an adversarial review).
        string stallerToken = await RegisterAndLoginAsync("staller");
        string otherToken = await RegisterAndLoginAsync("other");
        var stalled = new List<System.Net.Sockets.TcpClient>();
        try
        {
            await StallUploadsAsync(stallerToken, 6, stalled);
            // Past Kestrel's 5 s grace and its once-a-second check, on an otherwise quiet connection (other traffic on it
            // kept the connection's rate up and hid the abort).
            await Task.Delay(TimeSpan.FromSeconds(8));
            Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Get, "/users/me/sessions", otherToken)).StatusCode);
            Assert.Equal(Polly.CircuitBreaker.CircuitState.Closed, _gateway.Get<Gateway.Resilience.BackendResilience>().Snapshot()["backend"]);
        }
        finally
        {
            foreach (var tcp in stalled) tcp.Dispose();
        }
        string metrics = await new HttpClient().GetStringAsync(_backend.BaseUrl + "/metrics");
        Assert.DoesNotContain("min_request_body_data_rate", metrics);
    }

    [Fact]
    public async Task OneClientTricklingMoreUploadsThanTheBackendConnectionHasStreams_DoesNotStallOtherClients()
    {
        // The one connection to the backend carries 100 streams. Streamed, each trickled upload held one until the class's
        // deadline, so 110 of them from one client left every other client's request waiting for a stream until its own
        // deadline (504), and those 504s opened the breaker for everyone. Small bodies are now read before forwarding.
        string stallerToken = await RegisterAndLoginAsync("trickler");
        string otherToken = await RegisterAndLoginAsync("bystander");
        var stalled = new List<System.Net.Sockets.TcpClient>();
        var standard = _gateway.Get<Gateway.Resilience.TierLoadShedder>().SlotOf("standard")!;
        try
        {
            await StallUploadsAsync(stallerToken, 110, stalled);
            await Poll.UntilAsync(() => Volatile.Read(ref standard.InFlight) >= 110, "the gateway holds the 110 uploads");
            for (int i = 0; i < 5; i++)
                Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Get, "/users/me/sessions", otherToken)).StatusCode);
            Assert.Equal(Polly.CircuitBreaker.CircuitState.Closed, _gateway.Get<Gateway.Resilience.BackendResilience>().Snapshot()["backend"]);
        }
        finally
        {
            foreach (var tcp in stalled) tcp.Dispose();
        }
    }

    /// <summary>Opens <paramref name="count"/> connections, each sending a POST whose 15-byte body stops after 5 bytes.</summary>
    /// <summary>
    /// The same trickle with chunked bodies, which are not read whole first (their length is unknown): each held a stream
    /// of the shared connection until the class's deadline. One client may now stream 32 bodies at once
    /// (<c>Forwarding:MaxStreamedBodiesPerClient</c>); more are refused 429 and the other clients' requests go through.
    /// </summary>
    [Fact]
    public async Task OneClientTricklingMoreChunkedUploadsThanTheConnectionHasStreams_IsRefusedPastItsShare()
    {
        string stallerToken = await RegisterAndLoginAsync("chunked-trickler");
        string otherToken = await RegisterAndLoginAsync("chunked-bystander");
        var stalled = new List<System.Net.Sockets.TcpClient>();
        try
        {
            await StallUploadsAsync(stallerToken, 110, stalled, chunked: true);
            // Which 32 get through depends on the order the gateway takes them in, not the order they were sent.
            var answers = await Task.WhenAll(stalled.Select(tcp => RawHttp.ReadAsync(tcp.GetStream(), TimeSpan.FromSeconds(3))));
            Assert.Equal(110 - 32, answers.Count(a => a.Text.StartsWith("HTTP/1.1 429", StringComparison.Ordinal) && a.Text.Contains("too-many-uploads")));
            for (int i = 0; i < 5; i++)
                Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Get, "/users/me/sessions", otherToken)).StatusCode);
            Assert.Equal(Polly.CircuitBreaker.CircuitState.Closed, _gateway.Get<Gateway.Resilience.BackendResilience>().Snapshot()["backend"]);
        }
        finally
        {
            foreach (var tcp in stalled) tcp.Dispose();
        }
    }

    /// <summary>
    /// A quote is accepted raw in a query and escaped to three characters on the way out: ~8,000 of them made a
    /// <c>:path</c> past the backend's 16 KB header field limit, and the backend ended the one h2c connection every
    /// client shares (GOAWAY): 502s for everyone in flight, counted on the breaker (found by an adversarial review).
    /// </summary>
    [Fact]
    public async Task ATargetTooLongOnceEscaped_Is414AtTheEdge_AndLeavesTheSharedConnectionAndBreakerAlone()
    {
        string token = await RegisterAndLoginAsync("long-target");
        var uri = new Uri(_gateway.BaseUrl);
        string target = "/users/me/sessions?q=" + new string('"', 8000);
        for (int i = 0; i < 6; i++)
        {
            var response = await RawHttp.SendAsync(uri.Port,
                $"GET {target} HTTP/1.1\r\nHost: {uri.Authority}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n");
            Assert.StartsWith("HTTP/1.1 414", response.Text);
            Assert.Contains("uri-too-long", response.Text);
        }
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Get, "/users/me/sessions?q=" + new string('x', 2000), token)).StatusCode);
        Assert.Equal(Polly.CircuitBreaker.CircuitState.Closed, _gateway.Get<Gateway.Resilience.BackendResilience>().Snapshot()["backend"]);
    }

    private async Task StallUploadsAsync(string token, int count, List<System.Net.Sockets.TcpClient> into, bool chunked = false)
    {
        var uri = new Uri(_gateway.BaseUrl);
        string head = $"POST /orgs HTTP/1.1\r\nHost: {uri.Authority}\r\nAuthorization: Bearer {token}\r\n"
            + (chunked ? "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"nam"
                       : "Content-Type: application/json\r\nContent-Length: 15\r\n\r\n{\"nam");
        for (int i = 0; i < count; i++)
        {
            var tcp = new System.Net.Sockets.TcpClient();
            into.Add(tcp);
            await tcp.ConnectAsync(uri.Host, uri.Port);
            await tcp.GetStream().WriteAsync(System.Text.Encoding.ASCII.GetBytes(head));
        }
    }

    private async Task<string> RegisterAndLoginAsync(string name)
    {
        string email = $"{name}-{Guid.NewGuid():N}@example.com";
        Assert.Equal(HttpStatusCode.Created, (await _gateway.Client.PostAsJsonAsync("/auth/register", new { email, password = "correct horse battery staple", name })).StatusCode);
        var login = await _gateway.Client.PostAsJsonAsync("/auth/login", new { email, password = "correct horse battery staple" });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        return (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }

    [Fact]
    public async Task TheBackendsOwnPort_StillSpeaksHttp11()
    {
        using var client = new HttpClient();
        var response = await client.GetAsync(_backend.BaseUrl + "/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpVersion.Version11, response.Version);
    }

    private static bool Served(string metrics, string route, string version) => metrics.Split('\n').Any(line =>
        line.StartsWith("http_server_request_duration_seconds_count{", StringComparison.Ordinal)
        && line.Contains($"network_protocol_version=\"{version}\"", StringComparison.Ordinal)
        && line.Contains($"http_route=\"{route}\"", StringComparison.Ordinal));

    private static async Task<JsonElement> JsonOf(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private Task<HttpResponseMessage> Send(HttpMethod method, string path, string token, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        return _gateway.Client.SendAsync(request);
    }
}
