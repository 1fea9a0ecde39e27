using System.Net;
using Gateway.Identity;
using Gateway.Tests.Support;
using TestInfrastructure;

namespace Gateway.Tests.Identity;

public sealed class IdentityHeaderHygieneTests(RedisFixture redis) : IAsyncLifetime
{
    private static readonly string[] Spoofed =
    [
        "X-User-Id", "x-user-id", "X-USER-ID", "x_user_id", "X_User-Id", "X-Session-Id", "x_session_id", "X-Org-Id", "x-org_id",
        "X-Org-Role", "X_ORG_ROLE", "X-Gateway-Signature", "x-gateway_signature", "X-Gateway-Timestamp", "x_gateway_timestamp",
        "X-Gateway-Anything", "x_gateway_whatever", "X-Gateway-Secret", "X-Tenant-Id", "x_tenant_id",
    ];

    private FakeSessionBackend _backend = null!;
    private GatewayInstance _gateway = null!;

    public async ValueTask InitializeAsync()
    {
        _backend = await FakeSessionBackend.StartAsync();
        // X-Tenant-Id is configured as an extra identity header in the route-class file.
        _gateway = await GatewayInstance.StartAsync(_backend.BaseUrl, redis.ConnectionString,
            RouteFiles.CreateTemp(j => j["identityHeaders"]!["additional"] = new System.Text.Json.Nodes.JsonArray("X-Tenant-Id")));
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _backend.DisposeAsync();
    }

    private static void AddSpoofed(HttpRequestMessage request)
    {
        foreach (var name in Spoofed) request.Headers.TryAddWithoutValidation(name, "spoofed");
        request.Headers.TryAddWithoutValidation("X-Harmless", "kept");
    }

    private static void AssertClean(RecordedRequest received)
    {
        foreach (var (name, value) in received.Headers)
        {
            Assert.DoesNotContain("spoofed", value);
            Assert.False(name.Replace('_', '-').Equals("x-tenant-id", StringComparison.OrdinalIgnoreCase), name);
        }
        Assert.Equal("kept", received.Headers["X-Harmless"]);
    }

    [Fact]
    public async Task SpoofedIdentityHeaders_NeverReachTheBackend_OnAnonymousRoutes()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/auth/register") { Content = new StringContent("{}") };
        AddSpoofed(request);
        var response = await _gateway.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(_backend.ProxiedTo("/auth/register"));
        AssertClean(received);
        Assert.False(received.Headers.ContainsKey("X-User-Id"));
    }

    [Fact]
    public async Task SpoofedIdentityHeaders_NeverReachTheBackend_OnSessionRoutes()
    {
        var session = TestSession.Create();
        _backend.Add(session);
        var request = session.Get("/users/me");
        AddSpoofed(request);
        var response = await _gateway.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(_backend.ProxiedTo("/users/me"));
        AssertClean(received);
        Assert.Equal(session.UserId, received.Headers["X-User-Id"]);
        Assert.False(received.Headers.ContainsKey("X-Org-Id"));
    }

    [Theory]
    [InlineData("X-User-Id", true)]
    [InlineData("x_USER-id", true)]
    [InlineData("x-gateway-", true)]
    [InlineData("X_Gateway_Foo", true)]
    [InlineData("X-User-Ids", false)]
    [InlineData("X-Gateway", false)]
    [InlineData("Authorization", false)]
    public void Matcher_ComparesCaseInsensitivelyWithUnderscoreAsDash(string name, bool expected) =>
        Assert.Equal(expected, new IdentityHeaderMatcher([]).IsIdentityHeader(name));
}
