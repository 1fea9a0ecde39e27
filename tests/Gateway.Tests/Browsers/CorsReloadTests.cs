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

    /// <summary>
    /// The version the table reports is the one requests get. YARP applies new routes from its own change callback; the
    /// table used to report the new file before that, and a preflight sent the moment the version changed was answered
    /// by the previous file's class and policy (a CI run failed this way). The reader here spins on the version, so it
    /// sends as early as any client could.
    /// </summary>
    [Fact]
    public async Task ThePolicyOfTheVersionTheTableReports_IsTheOneAPreflightGets_FromTheFirstMoment()
    {
        var table = _gateway.Get<IRouteTable>();
        var next = JsonNode.Parse(await File.ReadAllTextAsync(_file))!.AsObject();
        for (int i = 0; i < 25; i++)
        {
            string version = $"cors-{i}", origin = $"http://o{i}.example.test";
            next["version"] = version;
            next["corsPolicies"]!["web"]!["origins"] = new JsonArray(origin);
            await File.WriteAllTextAsync(_file, next.ToJsonString());
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (table.Current.Version != version) await Task.Delay(0, timeout.Token);

            Assert.True(HttpStatusCode.NoContent == await PreflightAsync(origin), $"reload {i}: the table reports {version} but its origin was refused");
        }
    }
}
