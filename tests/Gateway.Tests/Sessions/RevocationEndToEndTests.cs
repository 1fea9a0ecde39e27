using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Contracts;
using Gateway.Redis;
using Gateway.Sessions;
using Gateway.Tests.Support;
using Npgsql;
using TestInfrastructure;

namespace Gateway.Tests.Sessions;

/// <summary>
/// Issue 14's repro, end to end: two gateways and the real backend on real Redis and Postgres. Redis stops taking
/// writes while a user logs out and the backend's Redis connections are killed while its revocation waits. The old
/// system answered 204 and both gateways kept accepting the token for the principal's 30-minute idle expiry.
/// </summary>
public sealed class RevocationEndToEndTests(PostgresFixture postgres) : IAsyncLifetime
{
    private const string BackendClientName = "backend-e2e";
    private RedisServer _redis = null!;
    private BackendProcess _backend = null!;
    private string _database = null!, _routes = null!;
    private GatewayInstance _a = null!, _b = null!;

    public async ValueTask InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _database = await postgres.Server.CreateDatabaseAsync("e2e");
        _backend = await BackendProcess.StartAsync(_database, $"{_redis.ConnectionString},name={BackendClientName}",
            "--Invalidation:ConfirmTimeout=00:00:01", "--Redis:OperationTimeout=00:00:00.300");
        _routes = RouteFiles.CreateTemp();
        _a = await StartGatewayAsync();
        _b = await StartGatewayAsync();
    }

    private async Task<GatewayInstance> StartGatewayAsync()
    {
        var gateway = await GatewayInstance.StartAsync(_backend.BaseUrl, _redis.ConnectionString, _routes);
        await Poll.UntilAsync(() => gateway.Get<InvalidationSubscriber>().IsSubscribed && gateway.Get<IRedisClient>().IsAvailable, "the gateway is on Redis");
        return gateway;
    }

    public async ValueTask DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _backend.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task LogoutWhileRedisPausesWritesAndTheBackendsConnectionsDie_IsNot204_AndNoGatewayAcceptsTheTokenOnceRedisRecovers()
    {
        string token = await RegisterAndLoginAsync();
        Assert.Equal(HttpStatusCode.OK, (await Get(_a, token)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Get(_b, token)).StatusCode);

        await _redis.CliAsync("CLIENT", "PAUSE", "3000", "WRITE");
        var logout = Send(_a, HttpMethod.Post, "/auth/logout", token);
        await Poll.UntilAsync(async () => await OutboxCountAsync() == 1, "the logout committed and waits on Redis");
        await KillBackendConnectionsAsync();

        var response = await logout;

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("https://gateway.dev/problems/revocation-pending", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString());
        // Once Redis takes writes again the outbox delivers the fence and the invalidation; well inside the L1 bound.
        await Poll.UntilAsync(async () => (await Get(_a, token)).StatusCode == HttpStatusCode.Unauthorized
            && (await Get(_b, token)).StatusCode == HttpStatusCode.Unauthorized, "both gateways refuse the revoked token", TimeSpan.FromSeconds(30));
        Assert.Equal(0, await OutboxCountAsync());

        await using var late = await StartGatewayAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, (await Get(late, token)).StatusCode);
        Assert.Null((await late.Get<IRedisClient>().GetStringAsync(SessionRedisContract.SessionKey(Gateway.Trust.SessionToken.Hash(token)))).Value);
    }

    [Fact]
    public async Task LogoutWithRedisHealthy_Is204_AndBothGatewaysAndALateOneRefuseTheToken()
    {
        string token = await RegisterAndLoginAsync();
        Assert.Equal(HttpStatusCode.OK, (await Get(_a, token)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Get(_b, token)).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await Send(_a, HttpMethod.Post, "/auth/logout", token)).StatusCode);

        await Poll.UntilAsync(async () => (await Get(_b, token)).StatusCode == HttpStatusCode.Unauthorized, "the other gateway refuses the token");
        Assert.Equal(HttpStatusCode.Unauthorized, (await Get(_a, token)).StatusCode);
        await using var late = await StartGatewayAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, (await Get(late, token)).StatusCode);
    }

    [Fact]
    public async Task AnAcceptedInvitation_ReachesEveryGateway_AndNothingBeforeTheAcceptAdmitsTheInvitee()
    {
        string ownerToken = await RegisterAndLoginAsync();
        string inviteeEmail = $"e2e-{Guid.NewGuid():N}@example.com";
        string inviteeToken = await RegisterAndLoginAsync(inviteeEmail);
        var created = await Send(_a, HttpMethod.Post, "/orgs", ownerToken, new { name = "Edge" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        string org = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        // Both gateways hold the invitee's principal (without the organisation) in L1.
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(_a, HttpMethod.Get, $"/orgs/{org}", inviteeToken)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(_b, HttpMethod.Get, $"/orgs/{org}", inviteeToken)).StatusCode);

        var invited = await Send(_a, HttpMethod.Post, $"/orgs/{org}/invitations", ownerToken, new { email = inviteeEmail, role = "member" });
        Assert.Equal(HttpStatusCode.Created, invited.StatusCode);
        var sent = await invited.Content.ReadFromJsonAsync<JsonElement>();
        string invitation = sent.GetProperty("id").GetString()!;
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(_b, HttpMethod.Get, $"/orgs/{org}", inviteeToken)).StatusCode);
        var mine = await (await Send(_b, HttpMethod.Get, "/invitations", inviteeToken)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(invitation, Assert.Single(mine.GetProperty("items").EnumerateArray()).GetProperty("id").GetString());

        Assert.Equal(HttpStatusCode.OK, (await Send(_b, HttpMethod.Post, $"/invitations/{invitation}/accept", inviteeToken,
            new { token = sent.GetProperty("acceptToken").GetString() })).StatusCode);

        // The accept answered once Redis had the invalidation: each gateway applies it within its propagation delay.
        await Poll.UntilAsync(async () => (await Send(_a, HttpMethod.Get, $"/orgs/{org}", inviteeToken)).StatusCode == HttpStatusCode.OK
            && (await Send(_b, HttpMethod.Get, $"/orgs/{org}", inviteeToken)).StatusCode == HttpStatusCode.OK, "both gateways admit the new member");
    }

    private async Task<string> RegisterAndLoginAsync(string? email = null)
    {
        email ??= $"e2e-{Guid.NewGuid():N}@example.com";
        var register = await _a.Client.PostAsJsonAsync("/auth/register", new { email, password = "correct horse battery staple", name = "E2E" });
        Assert.Equal(HttpStatusCode.Created, register.StatusCode);
        var login = await _a.Client.PostAsJsonAsync("/auth/login", new { email, password = "correct horse battery staple" });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        return (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }

    private static Task<HttpResponseMessage> Get(GatewayInstance gateway, string token) => Send(gateway, HttpMethod.Get, "/users/me/sessions", token);

    private static Task<HttpResponseMessage> Send(GatewayInstance gateway, HttpMethod method, string path, string token, object? body = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        return gateway.Client.SendAsync(request);
    }

    private async Task<long> OutboxCountAsync()
    {
        await using var conn = new NpgsqlConnection(_database);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT count(*) FROM invalidation_outbox", conn);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    /// <summary>CLIENT KILL ADDR for each of the backend's connections (found by the client name it registers).</summary>
    private async Task KillBackendConnectionsAsync()
    {
        int killed = 0;
        foreach (string line in (await _redis.CliAsync("CLIENT", "LIST")).Split('\n'))
        {
            if (!line.Contains($" name={BackendClientName} ", StringComparison.Ordinal)) continue;
            string addr = line.Split(' ').Single(f => f.StartsWith("addr=", StringComparison.Ordinal))["addr=".Length..];
            await _redis.CliAsync("CLIENT", "KILL", "ADDR", addr);
            killed++;
        }
        Assert.True(killed > 0, "found the backend's Redis connections");
    }
}
