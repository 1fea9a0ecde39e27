using System.Net;
using System.Text;
using System.Text.Json;
using Gateway.Resilience;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Http;
using Polly.CircuitBreaker;
using TestInfrastructure;

namespace Gateway.Tests.Resilience;

/// <summary>
/// The breaker of a cluster is shared by every client, so nothing one client sends may open it (issue 14). The backend
/// here answers malformed input 500 as the auth backend did before issue 14 (a backend bug turning a client's bad input
/// into a 500 can always come back); the real backend's 4xx answers are proven by Backend.Tests' MalformedInputTests.
/// </summary>
public sealed class ClientCausedErrorsTests(RedisFixture redis) : IAsyncLifetime
{
    private const string Password = "correct horse battery staple";
    private RecordingBackend _backend = null!;
    private GatewayInstance _gateway = null!;

    public async ValueTask InitializeAsync()
    {
        _backend = await RecordingBackend.StartAsync();
        _backend.Handler = OldBackendAsync;
        // Clients are told apart by X-Forwarded-For from the trusted loopback peer; the login limit is raised (RouteFiles)
        // so the malformed client's requests reach the backend instead of being answered 429 by the gateway.
        string routes = RouteFiles.CreateTemp(j =>
        {
            j["classes"]!["open"] = JsonSerializer.SerializeToNode(new { tier = "standard", budgetMs = 200, auth = "anonymous", timeoutMs = 30000 });
            RouteFiles.AddRoute(j, "upload", "/upload/{**rest}", "open");
        });
        _gateway = await GatewayInstance.StartAsync(_backend.BaseUrl, redis.ConnectionString, routes, null,
            "--RateLimiting:TrustedProxies:0=127.0.0.1");
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _backend.DisposeAsync();
    }

    /// <summary>The auth backend before issue 14 in Development: a login body it cannot bind is a 500.</summary>
    private async Task OldBackendAsync(HttpContext ctx)
    {
        if (ctx.Request.Path != "/auth/login") { await ctx.Response.WriteAsync("ok"); return; }
        // The recording backend has read the body already.
        string body = RecordingBackend.Recorded(ctx).Body;
        try
        {
            var login = JsonSerializer.Deserialize<LoginBody>(body, JsonSerializerOptions.Web);
            if (login is null) throw new JsonException("null body");
            ctx.Response.StatusCode = login.Password == Password ? 200 : 401;
            await ctx.Response.WriteAsync(ctx.Response.StatusCode == 200 ? """{"token":"t"}""" : "");
        }
        catch (JsonException)
        {
            ctx.Response.StatusCode = 500;
        }
    }

    private sealed record LoginBody(string? Email, string? Password);

    private HttpRequestMessage Login(string client, string body, string? contentType = "application/json")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/auth/login") { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) };
        if (contentType is not null) request.Content.Headers.ContentType = new(contentType);
        request.Headers.Add("X-Forwarded-For", client);
        return request;
    }

    /// <summary>A client address of this test only (the per-IP login counters are shared through Redis too).</summary>
    private static string RandomClient() => $"2001:db8::{Random.Shared.Next(1, 0xffff):x}:{Random.Shared.Next(1, 0xffff):x}";

    private CircuitState BackendBreaker => _gateway.Get<IBreakerStates>().Snapshot().GetValueOrDefault("backend", CircuitState.Closed);

    [Fact]
    public async Task TwoHundredMalformedRequestsFromOneClient_ThenAnotherClientsValidLogin_SucceedsAtOnce()
    {
        // Accounts of this test only: the gateways of every test share Redis, and so the per-account login counters.
        string email = $"malformed-{Guid.NewGuid():N}@example.com";
        string malformedClient = RandomClient();
        string[] malformed =
        [
            "{bad", "", "[]", "null", "42", """{"email":5,"password":true}""", $$$"""{"email":"{{{email}}}","password":{}}""",
            $$"""{"email":"{{email}}","pass""", $$"""{"email":["{{email}}"],"password":"x"}""",
        ];
        int reachedBackendAs500 = 0;
        for (int i = 0; i < 200; i++)
        {
            using var response = await _gateway.Client.SendAsync(Login(malformedClient, malformed[i % malformed.Length]));
            Assert.NotEqual(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            if (response.StatusCode == HttpStatusCode.InternalServerError) reachedBackendAs500++;
        }
        Assert.True(reachedBackendAs500 >= 5, $"only {reachedBackendAs500} malformed requests reached the backend: the test proves nothing");
        Assert.Equal(CircuitState.Closed, BackendBreaker);

        using var valid = await _gateway.Client.SendAsync(Login(RandomClient(), $$"""{"email":"new-{{Guid.NewGuid():N}}@example.com","password":"{{Password}}"}"""));
        Assert.Equal(HttpStatusCode.OK, valid.StatusCode);
    }

    [Fact]
    public async Task MalformedChunkedBodiesFromOneClient_DoNotOpenTheBreaker()
    {
        // The gateway forwards the headers, then fails copying the body: Kestrel rejects the bad chunk. That failure
        // surfaces in the backend call, but it is the client's.
        int port = new Uri(_gateway.BaseUrl).Port;
        for (int i = 0; i < 20; i++)
        {
            var response = await RawHttp.SendAsync(port,
                "POST /upload/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n5\r\n{\"a\":\r\nzz\r\n");
            Assert.NotEqual(503, response.Status);
        }
        Assert.Equal(CircuitState.Closed, BackendBreaker);
        using var valid = await _gateway.Client.PostAsync("/upload/ok", new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, valid.StatusCode);
    }
}
