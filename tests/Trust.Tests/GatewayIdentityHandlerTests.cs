using System.Net;
using System.Security.Claims;
using Gateway.Trust;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TestInfrastructure;

namespace Trust.Tests;

/// <summary>The handler and the client-address middleware as a backend team uses them: a real Kestrel app, real HTTP requests.</summary>
public sealed class GatewayIdentityHandlerTests
{
    private static readonly GatewaySigningKey K1 = new("k1", GatewaySecrets.Generate());
    private static readonly GatewaySigningKey K2 = new("k2", GatewaySecrets.Generate());
    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>A service of one cluster that accepts <paramref name="keys"/>.</summary>
    private sealed class Service : IAsyncDisposable
    {
        private readonly WebApplication _app;
        public HttpClient Client { get; }

        private Service(WebApplication app, HttpClient client) { _app = app; Client = client; }

        public static async Task<Service> StartAsync(params GatewaySigningKey[] keys)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls(AnyLoopbackPort.Url);
            builder.Services.AddAuthentication(GatewayIdentityHandler.SchemeName).AddGatewayIdentity(o => o.SigningKeys.AddRange(keys));
            builder.Services.AddAuthorization();
            var app = builder.Build();
            app.UseGatewayClientIp();
            app.UseAuthentication();
            app.UseAuthorization();
            app.MapGet("/whoami", (ClaimsPrincipal user) =>
                $"{user.FindFirstValue(ClaimTypes.NameIdentifier)}|{user.FindFirstValue(GatewayIdentityHandler.SessionIdClaim)}|{user.FindFirstValue(GatewayIdentityHandler.OrgRoleClaim)}")
                .RequireAuthorization();
            app.MapPost("/login", (HttpContext http) => http.Connection.RemoteIpAddress?.ToString() ?? "none");
            await app.StartAsync();
            return new Service(app, new HttpClient { BaseAddress = new Uri(app.BoundUrl()) });
        }

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    private static HttpRequestMessage Signed(GatewaySigningKey key, long timestamp, string pathAndQuery = "/whoami", string role = "admin",
        HttpMethod? method = null, string clientIp = "203.0.113.7", bool user = true)
    {
        method ??= HttpMethod.Get;
        var id = user ? new SignedIdentity("user-1", "sess-1", "org-1", role) : new SignedIdentity("", "", "", "");
        int q = pathAndQuery.IndexOf('?');
        string path = q < 0 ? pathAndQuery : pathAndQuery[..q], query = q < 0 ? "" : pathAndQuery[q..];
        var req = new HttpRequestMessage(method, pathAndQuery);
        if (user)
        {
            req.Headers.Add(IdentityHeaders.UserId, id.UserId);
            req.Headers.Add(IdentityHeaders.SessionId, id.SessionId);
            req.Headers.Add(IdentityHeaders.OrgId, id.OrgId);
            req.Headers.Add(IdentityHeaders.OrgRole, id.OrgRole);
        }
        req.Headers.Add(IdentityHeaders.ClientIp, clientIp);
        req.Headers.Add(IdentityHeaders.KeyId, key.Id);
        req.Headers.Add(IdentityHeaders.Timestamp, timestamp.ToString());
        req.Headers.Add(IdentityHeaders.Signature, new GatewaySignature(key.Id, key.Secret).Sign(method.Method, path, query, timestamp, clientIp, id));
        return req;
    }

    [Fact]
    public async Task ValidSignature_BecomesPrincipal()
    {
        await using var service = await Service.StartAsync(K1);
        var res = await service.Client.SendAsync(Signed(K1, Now));
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        Assert.Equal("user-1|sess-1|admin", await res.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task TamperedRole_Is401()
    {
        await using var service = await Service.StartAsync(K1);
        var req = Signed(K1, Now);
        req.Headers.Remove(IdentityHeaders.OrgRole);
        req.Headers.Add(IdentityHeaders.OrgRole, "owner");
        Assert.Equal(HttpStatusCode.Unauthorized, (await service.Client.SendAsync(req)).StatusCode);
    }

    [Fact]
    public async Task ChangedQueryString_Is401()
    {
        await using var service = await Service.StartAsync(K1);
        Assert.Equal(HttpStatusCode.OK, (await service.Client.SendAsync(Signed(K1, Now, "/whoami?org=1"))).StatusCode);
        var req = Signed(K1, Now, "/whoami?org=1");
        req.RequestUri = new Uri("/whoami?org=2", UriKind.Relative);
        Assert.Equal(HttpStatusCode.Unauthorized, (await service.Client.SendAsync(req)).StatusCode);
    }

    [Fact]
    public async Task WrongSecretUnderAKnownKeyId_Is401()
    {
        await using var service = await Service.StartAsync(K1);
        Assert.Equal(HttpStatusCode.Unauthorized, (await service.Client.SendAsync(Signed(new("k1", GatewaySecrets.Generate()), Now))).StatusCode);
    }

    [Fact]
    public async Task SignatureWithClusterAsKey_IsRejectedByClusterBsService()
    {
        var clusterA = new GatewaySigningKey("a-1", GatewaySecrets.Generate());
        var clusterB = new GatewaySigningKey("b-1", GatewaySecrets.Generate());
        await using var serviceB = await Service.StartAsync(clusterB);
        Assert.Equal(HttpStatusCode.OK, (await serviceB.Client.SendAsync(Signed(clusterB, Now))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await serviceB.Client.SendAsync(Signed(clusterA, Now))).StatusCode);
        // Nor under B's key id: the HMAC is still A's.
        Assert.Equal(HttpStatusCode.Unauthorized, (await serviceB.Client.SendAsync(Signed(new("b-1", clusterA.Secret), Now))).StatusCode);
    }

    [Fact]
    public async Task Rotation_ServiceWithK1AndK2_AcceptsBoth_AndAfterK1IsRemoved_RejectsK1()
    {
        await using (var during = await Service.StartAsync(K1, K2))
        {
            Assert.Equal(HttpStatusCode.OK, (await during.Client.SendAsync(Signed(K1, Now))).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await during.Client.SendAsync(Signed(K2, Now))).StatusCode);
        }
        await using var after = await Service.StartAsync(K2);
        Assert.Equal(HttpStatusCode.OK, (await after.Client.SendAsync(Signed(K2, Now))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await after.Client.SendAsync(Signed(K1, Now))).StatusCode);
    }

    [Fact]
    public async Task V1Signature_WithoutKeyIdQueryOrClientAddress_Is401()
    {
        await using var service = await Service.StartAsync(K1);
        long ts = Now;
        string v1 = string.Join('\n', "v1", "GET", "/whoami", ts.ToString(), "user-1", "sess-1", "org-1", "admin");
        string sig = Convert.ToBase64String(System.Security.Cryptography.HMACSHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes(K1.Secret), System.Text.Encoding.UTF8.GetBytes(v1))).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var req = new HttpRequestMessage(HttpMethod.Get, "/whoami");
        req.Headers.Add(IdentityHeaders.UserId, "user-1");
        req.Headers.Add(IdentityHeaders.SessionId, "sess-1");
        req.Headers.Add(IdentityHeaders.OrgId, "org-1");
        req.Headers.Add(IdentityHeaders.OrgRole, "admin");
        req.Headers.Add(IdentityHeaders.Timestamp, ts.ToString());
        req.Headers.Add(IdentityHeaders.Signature, sig);
        Assert.Equal(HttpStatusCode.Unauthorized, (await service.Client.SendAsync(req)).StatusCode);
    }

    [Fact]
    public async Task StaleTimestamp_Is401()
    {
        await using var service = await Service.StartAsync(K1);
        Assert.Equal(HttpStatusCode.Unauthorized, (await service.Client.SendAsync(Signed(K1, Now - 120))).StatusCode);
    }

    [Fact]
    public async Task MissingSignature_Is401()
    {
        await using var service = await Service.StartAsync(K1);
        var req = Signed(K1, Now);
        req.Headers.Remove(IdentityHeaders.Signature);
        Assert.Equal(HttpStatusCode.Unauthorized, (await service.Client.SendAsync(req)).StatusCode);
    }

    [Fact]
    public async Task IdentityHeaderAlone_Is401()
    {
        await using var service = await Service.StartAsync(K1);
        var req = new HttpRequestMessage(HttpMethod.Get, "/whoami");
        req.Headers.Add(IdentityHeaders.UserId, "user-1");
        Assert.Equal(HttpStatusCode.Unauthorized, (await service.Client.SendAsync(req)).StatusCode);
    }

    [Fact]
    public async Task SignedAnonymousRequest_HasTheSignedClientAddress_NotXForwardedFor()
    {
        await using var service = await Service.StartAsync(K1);
        var req = Signed(K1, Now, "/login", method: HttpMethod.Post, clientIp: "198.51.100.23", user: false);
        req.Headers.Add("X-Forwarded-For", "192.0.2.99");
        var res = await service.Client.SendAsync(req);
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        Assert.Equal("198.51.100.23", await res.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ForgedClientAddress_Is401_AndUnsignedCallersKeepTheirPeerAddress()
    {
        await using var service = await Service.StartAsync(K1);
        var forged = Signed(K1, Now, "/login", method: HttpMethod.Post, clientIp: "198.51.100.23", user: false);
        forged.Headers.Remove(IdentityHeaders.ClientIp);
        forged.Headers.Add(IdentityHeaders.ClientIp, "198.51.100.24");
        Assert.Equal(HttpStatusCode.Unauthorized, (await service.Client.SendAsync(forged)).StatusCode);

        var direct = await service.Client.PostAsync("/login", null);
        Assert.Equal("127.0.0.1", await direct.Content.ReadAsStringAsync());
    }
}

public sealed class GatewayIdentityStartupTests
{
    private static WebApplication Build(string environment, Dictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = environment });
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(AnyLoopbackPort.Url);
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddAuthentication(GatewayIdentityHandler.SchemeName).AddGatewayIdentity(builder.Configuration.GetSection("GatewayIdentity"));
        return builder.Build();
    }

    private static readonly Dictionary<string, string?> RepositoryKey = new()
    {
        ["GatewayIdentity:SigningKeys:0:Id"] = "dev-1",
        ["GatewayIdentity:SigningKeys:0:Secret"] = GatewaySecrets.DevelopmentMarker + "signing-key-cluster-backend-dev-1-Zr5w",
    };

    [Fact]
    public async Task RepositorySecretOutsideDevelopment_FailsTheStartNamingTheSettingAndTheFix()
    {
        await using var app = Build("Production", RepositoryKey);
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());
        string message = string.Join("\n", ex.Failures);
        Assert.Contains("GatewayIdentity:SigningKeys:0:Secret (key 'dev-1') is a development secret from the repository", message);
        Assert.Contains("GatewayIdentity__SigningKeys__0__Secret", message);
    }

    [Fact]
    public async Task RepositorySecretInDevelopment_Starts()
    {
        await using var app = Build("Development", RepositoryKey);
        await app.StartAsync();
        await app.StopAsync();
    }

    [Fact]
    public async Task NoKeys_FailsTheStart()
    {
        await using var app = Build("Production", []);
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());
        Assert.Contains("GatewayIdentity:SigningKeys is empty", string.Join("\n", ex.Failures));
    }
}
