using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Contracts;
using Gateway.Tests.Support;
using TestInfrastructure;

namespace Gateway.Tests.Observability;

/// <summary>
/// The backend's <c>X-DB-Queries</c> reaches the client through the gateway, so an operator sees an N+1 from curl; a
/// response cache hit ran no database command and does not repeat the count stored with the entry.
/// </summary>
public sealed class DbQueriesPassThroughTests(PostgresFixture postgres, RedisFixture redis) : IAsyncLifetime
{
    private BackendProcess _backend = null!;
    private GatewayInstance _gateway = null!;

    public async ValueTask InitializeAsync()
    {
        _backend = await BackendProcess.StartAsync(await postgres.Server.CreateDatabaseAsync("dbq"), redis.ConnectionString);
        _gateway = await GatewayInstance.StartAsync(_backend.BaseUrl, redis.ConnectionString, RouteFiles.CreateTemp());
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _backend.DisposeAsync();
    }

    [Fact]
    public async Task AuthMe_DirectAndThroughTheGateway_CarriesTheBackendsCommandCount()
    {
        string token = await RegisterAndLoginAsync();

        using var direct = new HttpClient { BaseAddress = new Uri(_backend.BaseUrl) };
        var fromBackend = await GetMe(direct, token);
        var miss = await GetMe(_gateway.Client, token);
        var hit = await GetMe(_gateway.Client, token);

        Assert.Equal(HttpStatusCode.OK, fromBackend.StatusCode);
        // Direct: the bearer token is looked up in Postgres, then the profile query.
        Assert.Equal("2", Header(fromBackend));
        // Through the gateway the identity arrives signed (no session lookup): the profile query alone.
        Assert.Equal(HttpStatusCode.OK, miss.StatusCode);
        Assert.Equal("MISS", Header(miss, "X-Cache"));
        Assert.Equal("1", Header(miss));
        Assert.Equal("HIT", Header(hit, "X-Cache"));
        Assert.Null(Header(hit));
    }

    private async Task<string> RegisterAndLoginAsync()
    {
        string email = $"dbq-{Guid.NewGuid():N}@example.com";
        var register = await _gateway.Client.PostAsJsonAsync("/auth/register", new { email, password = "correct horse battery staple", name = "DBQ" });
        Assert.Equal(HttpStatusCode.Created, register.StatusCode);
        var login = await _gateway.Client.PostAsJsonAsync("/auth/login", new { email, password = "correct horse battery staple" });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        return (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }

    private static Task<HttpResponseMessage> GetMe(HttpClient client, string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/auth/me");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        return client.SendAsync(request);
    }

    private static string? Header(HttpResponseMessage response, string name = DiagnosticHeaders.DbQueries) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;
}
