using System.Net;
using System.Security.Claims;
using Gateway.Trust;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TestInfrastructure;

namespace Trust.Tests;

/// <summary>The handler as a backend team uses it: a real Kestrel app, real HTTP requests.</summary>
public sealed class GatewayIdentityHandlerTests : IAsyncLifetime
{
    private const string Secret = "handler-secret-handler-secret-0123456789";
    private WebApplication _app = null!;
    private HttpClient _client = null!;

    public async ValueTask InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        int port = FreePort.Next();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Services.AddAuthentication(GatewayIdentityHandler.SchemeName).AddGatewayIdentity(o => o.SharedSecret = Secret);
        builder.Services.AddAuthorization();
        _app = builder.Build();
        _app.UseAuthentication();
        _app.UseAuthorization();
        _app.MapGet("/whoami", (ClaimsPrincipal user) =>
            $"{user.FindFirstValue(ClaimTypes.NameIdentifier)}|{user.FindFirstValue(GatewayIdentityHandler.SessionIdClaim)}|{user.FindFirstValue(GatewayIdentityHandler.OrgRoleClaim)}")
            .RequireAuthorization();
        await _app.StartAsync();
        _client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
    }

    private HttpRequestMessage Signed(long timestamp, string secret = Secret, string path = "/whoami", string role = "admin")
    {
        var id = new SignedIdentity("user-1", "sess-1", "org-1", role);
        var req = new HttpRequestMessage(HttpMethod.Get, path);
        req.Headers.Add(IdentityHeaders.UserId, id.UserId);
        req.Headers.Add(IdentityHeaders.SessionId, id.SessionId);
        req.Headers.Add(IdentityHeaders.OrgId, id.OrgId);
        req.Headers.Add(IdentityHeaders.OrgRole, id.OrgRole);
        req.Headers.Add(IdentityHeaders.Timestamp, timestamp.ToString());
        req.Headers.Add(IdentityHeaders.Signature, new GatewaySignature(secret).Sign("GET", path, timestamp, id));
        return req;
    }

    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    [Fact]
    public async Task ValidSignature_BecomesPrincipal()
    {
        var res = await _client.SendAsync(Signed(Now));
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        Assert.Equal("user-1|sess-1|admin", await res.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task TamperedRole_Is401()
    {
        var req = Signed(Now);
        req.Headers.Remove(IdentityHeaders.OrgRole);
        req.Headers.Add(IdentityHeaders.OrgRole, "owner");
        Assert.Equal(HttpStatusCode.Unauthorized, (await _client.SendAsync(req)).StatusCode);
    }

    [Fact]
    public async Task WrongSecret_Is401() =>
        Assert.Equal(HttpStatusCode.Unauthorized, (await _client.SendAsync(Signed(Now, Secret + "-other"))).StatusCode);

    [Fact]
    public async Task StaleTimestamp_Is401() =>
        Assert.Equal(HttpStatusCode.Unauthorized, (await _client.SendAsync(Signed(Now - 120))).StatusCode);

    [Fact]
    public async Task MissingSignature_Is401()
    {
        var req = Signed(Now);
        req.Headers.Remove(IdentityHeaders.Signature);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _client.SendAsync(req)).StatusCode);
    }

    [Fact]
    public async Task IdentityHeaderAlone_Is401()
    {
        var req = new HttpRequestMessage(HttpMethod.Get, "/whoami");
        req.Headers.Add(IdentityHeaders.UserId, "user-1");
        Assert.Equal(HttpStatusCode.Unauthorized, (await _client.SendAsync(req)).StatusCode);
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
