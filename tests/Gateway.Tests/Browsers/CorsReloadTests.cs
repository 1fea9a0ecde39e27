using System.Net;
using System.Text.Json.Nodes;
using Gateway.Routing;
using Gateway.Tests.Support;
using TestInfrastructure;

namespace Gateway.Tests.Browsers;

/// <summary>
/// CORS policies are part of the route-class file: a valid edit swaps them with the routes and classes, an invalid one
/// is refused whole and the policies in force keep answering.
/// </summary>
public sealed class CorsReloadTests(RedisFixture redis) : IAsyncLifetime
{
    private const string First = "http://first.example.test";
    private const string Second = "http://second.example.test";
    private FakeSessionBackend _backend = null!;
    private GatewayInstance _gateway = null!;
    private string _file = null!;

    public async ValueTask InitializeAsync()
    {
        _backend = await FakeSessionBackend.StartAsync();
        _file = BrowserRouteFiles.Create(First);
        _gateway = await GatewayInstance.StartAsync(_backend.BaseUrl, redis.ConnectionString, _file);
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _backend.DisposeAsync();
    }

    private async Task<HttpStatusCode> PreflightAsync(string origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, "/users/me");
        request.Headers.TryAddWithoutValidation("Origin", origin);
        request.Headers.TryAddWithoutValidation("Access-Control-Request-Method", "DELETE");
        return (await _gateway.Client.SendAsync(request)).StatusCode;
    }

    [Fact]
    public async Task AValidEditSwapsThePolicy_AndABrokenOneIsRefusedWhileTheActivePolicyKeepsAnswering()
    {
        Assert.Equal(HttpStatusCode.NoContent, await PreflightAsync(First));
        Assert.Equal(HttpStatusCode.Forbidden, await PreflightAsync(Second));

        var next = JsonNode.Parse(await File.ReadAllTextAsync(_file))!.AsObject();
        next["version"] = "cors-second";
        next["corsPolicies"]!["web"]!["origins"] = new JsonArray(Second);
        await File.WriteAllTextAsync(_file, next.ToJsonString());
        var table = _gateway.Get<IRouteTable>();
        await Poll.UntilAsync(() => table.Current.Version == "cors-second", "the edited file is applied");

        Assert.Equal(HttpStatusCode.NoContent, await PreflightAsync(Second));
        Assert.Equal(HttpStatusCode.Forbidden, await PreflightAsync(First));

        next["version"] = "cors-broken";
        next["corsPolicies"]!["web"]!["origins"] = new JsonArray("*");   // with credentials: refused
        await File.WriteAllTextAsync(_file, next.ToJsonString());
        await Poll.UntilAsync(() => !table.LastReload.Ok, "the broken file is refused");

        Assert.Contains(table.LastReload.Errors, e => e.Contains("CORS policy 'web' allows origin '*' with credentials"));
        Assert.Equal("cors-second", table.Current.Version);
        Assert.Equal(HttpStatusCode.NoContent, await PreflightAsync(Second));
        Assert.Equal(HttpStatusCode.Forbidden, await PreflightAsync("http://anyone.example.test"));
    }
}
