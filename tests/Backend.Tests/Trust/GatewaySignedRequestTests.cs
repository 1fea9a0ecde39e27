using System.Net;
using Backend.Tests.Support;
using Gateway.Trust;
using TestInfrastructure;

namespace Backend.Tests.Trust;

public sealed class GatewaySignedRequestTests(PostgresFixture postgres, RedisFixture redis) : BackendTest(postgres, redis)
{
    private long Now => App.Time.GetUtcNow().ToUnixTimeSeconds();

    private async Task<(Guid User, Guid Session)> SessionAsync()
    {
        var login = await Client.NewUserAsync();
        var me = await (await Client.SendAsync(HttpMethod.Get, "/auth/me", login.Token)).ReadJsonAsync();
        return (login.UserId, me.GetProperty("sessionId").GetGuid());
    }

    [Fact]
    public async Task ValidSignature_IsAuthenticated()
    {
        var (user, session) = await SessionAsync();
        var response = await Client.SendAsync(GatewaySigner.Signed(HttpMethod.Get, "/auth/me", user, session, Now));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(user, (await response.ReadJsonAsync()).GetProperty("id").GetGuid());
    }

    [Fact]
    public async Task TamperedValue_Returns401()
    {
        var (user, session) = await SessionAsync();
        var request = GatewaySigner.Signed(HttpMethod.Get, "/auth/me", user, session, Now);
        request.Headers.Remove(IdentityHeaders.UserId);
        request.Headers.Add(IdentityHeaders.UserId, Guid.NewGuid().ToString());
        await (await Client.SendAsync(request)).AssertProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task WrongSecret_Returns401()
    {
        var (user, session) = await SessionAsync();
        var request = GatewaySigner.Signed(HttpMethod.Get, "/auth/me", user, session, Now,
            key: new GatewaySignature(BackendApp.SigningKeyId, GatewaySecrets.Generate()));
        await (await Client.SendAsync(request)).AssertProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task StaleTimestamp_Returns401()
    {
        var (user, session) = await SessionAsync();
        var request = GatewaySigner.Signed(HttpMethod.Get, "/auth/me", user, session, Now - 120);
        await (await Client.SendAsync(request)).AssertProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task MissingSignature_Returns401EvenWithAValidBearerToken()
    {
        var login = await Client.NewUserAsync();
        var request = new HttpRequestMessage(HttpMethod.Get, "/auth/me");
        request.Headers.Add(IdentityHeaders.UserId, login.UserId.ToString());
        request.Headers.Add(IdentityHeaders.SessionId, Guid.NewGuid().ToString());
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", login.Token);
        await (await Client.SendAsync(request)).AssertProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task SignatureForAnotherPath_Returns401()
    {
        var (user, session) = await SessionAsync();
        var signed = GatewaySigner.Signed(HttpMethod.Get, "/users/me/sessions", user, session, Now);
        var request = new HttpRequestMessage(HttpMethod.Get, "/auth/me");
        foreach (var h in signed.Headers) request.Headers.TryAddWithoutValidation(h.Key, h.Value);
        await (await Client.SendAsync(request)).AssertProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task ChangedQueryString_Returns401()
    {
        var (user, session) = await SessionAsync();
        Assert.Equal(HttpStatusCode.OK, (await Client.SendAsync(GatewaySigner.Signed(HttpMethod.Get, "/auth/me?view=short", user, session, Now))).StatusCode);
        var request = GatewaySigner.Signed(HttpMethod.Get, "/auth/me?view=short", user, session, Now);
        request.RequestUri = new Uri("/auth/me?view=full", UriKind.Relative);
        await (await Client.SendAsync(request)).AssertProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task SignatureByAnotherClustersKey_Returns401()
    {
        var (user, session) = await SessionAsync();
        var otherCluster = new GatewaySignature("orders-k1", GatewaySecrets.Generate());
        await (await Client.SendAsync(GatewaySigner.Signed(HttpMethod.Get, "/auth/me", user, session, Now, key: otherCluster)))
            .AssertProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task InternalSecretAsSigningKey_Returns401()
    {
        var (user, session) = await SessionAsync();
        var internalAsKey = new GatewaySignature(BackendApp.SigningKeyId, BackendApp.InternalSecret);
        await (await Client.SendAsync(GatewaySigner.Signed(HttpMethod.Get, "/auth/me", user, session, Now, key: internalAsKey)))
            .AssertProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task SigningSecretAsInternalSecret_Returns401()
    {
        var login = await Client.NewUserAsync();
        var request = new HttpRequestMessage(HttpMethod.Post, "/internal/sessions/introspect")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { tokenHash = login.Hash }),
        };
        request.Headers.Add(IdentityHeaders.InternalSecret, BackendApp.SigningSecret);
        await (await Client.SendAsync(request)).AssertProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task ForgedSignatureOnAnonymousLogin_Returns401()
    {
        var request = GatewaySigner.Anonymous(HttpMethod.Post, "/auth/login", Now, "203.0.113.9",
            key: new GatewaySignature(BackendApp.SigningKeyId, GatewaySecrets.Generate()));
        request.Content = System.Net.Http.Json.JsonContent.Create(new { email = Api.NewEmail(), password = "whatever 123456" });
        await (await Client.SendAsync(request)).AssertProblemAsync(HttpStatusCode.Unauthorized, "unauthorized");
    }
}
