using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Tests.Support;
using Gateway.Trust;
using Polly.CircuitBreaker;
using TestInfrastructure;

namespace Gateway.Tests.Proxy;

/// <summary>
/// A cluster of two real upstream instances behind the real gateway: YARP's round robin spreads the traffic, its active
/// health checks (2 s interval here; a generous probe timeout, since one slow probe on a loaded machine would take a
/// live instance out) take a killed instance out and bring it back, and the cluster breaker stays closed
/// while one instance serves.
/// </summary>
public sealed class MultiDestinationTests(RedisFixture redis) : IAsyncLifetime
{
    private const string KeyId = "orders-k1";
    private static readonly string Secret = GatewaySecrets.Generate();
    private FakeSessionBackend _backend = null!;
    private Upstream _a = null!, _b = null!;
    private GatewayInstance _gateway = null!;
    private string _routeFile = null!;

    public async ValueTask InitializeAsync()
    {
        _backend = await FakeSessionBackend.StartAsync();
        _a = await Upstream.StartAsync("a", FreePort.Next());
        _b = await Upstream.StartAsync("b", FreePort.Next());
        _routeFile = RouteFiles.CreateTemp(j => AddOrders(j, _a.Url, _b.Url));
        _gateway = await GatewayInstance.StartAsync(_backend.BaseUrl, redis.ConnectionString, _routeFile, null,
            $"--Signing:Clusters:orders:Keys:0:Id={KeyId}", $"--Signing:Clusters:orders:Keys:0:Secret={Secret}");
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _backend.DisposeAsync();
    }

    private static void AddOrders(JsonObject json, params string[] urls)
    {
        json["classes"]!["orders"] = new JsonObject { ["tier"] = "standard", ["budgetMs"] = 200, ["auth"] = "anonymous", ["timeoutMs"] = 5000 };
        json["routes"]!["orders"] = new JsonObject { ["path"] = "/orders/{**rest}", ["class"] = "orders", ["cluster"] = "orders" };
        var destinations = new JsonObject();
        for (int i = 0; i < urls.Length; i++) destinations[((char)('a' + i)).ToString()] = urls[i];
        json["clusters"]!["orders"] = new JsonObject
        {
            ["destinations"] = destinations,
            ["loadBalancing"] = "RoundRobin",
            ["healthCheck"] = new JsonObject
            {
                ["active"] = new JsonObject { ["path"] = "/health", ["intervalSeconds"] = 2, ["timeoutSeconds"] = 1.5 },
                ["passive"] = true,
            },
        };
    }

    private async Task<JsonElement> DestinationStatusAsync(string destination)
    {
        using var doc = JsonDocument.Parse(await _gateway.AdminClient.GetStringAsync("/gateway/status"));
        return doc.RootElement.GetProperty("clusters").GetProperty("clusters").GetProperty("orders")
            .GetProperty("destinations").GetProperty(destination).Clone();
    }

    [Fact]
    public async Task GatewayStatus_ShowsAClusterWithAddressesOfItsOwn_OnTheProtocolTheFileLeftToAuto()
    {
        using var doc = JsonDocument.Parse(await _gateway.AdminClient.GetStringAsync("/gateway/status"));
        var orders = doc.RootElement.GetProperty("clusters").GetProperty("clusters").GetProperty("orders");
        Assert.Equal("auto", orders.GetProperty("protocol").GetString());
    }

    [Fact]
    public async Task Traffic_IsSpreadAcrossBothDestinations_AndDestinationBVerifiesTheClusterSignature()
    {
        for (int i = 0; i < 20; i++)
        {
            var response = await _gateway.Client.GetAsync($"/orders/item?n={i}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        // Round robin: each instance gets half (a probe never counts: /health is answered apart).
        Assert.Equal(10, _a.Count);
        Assert.Equal(10, _b.Count);

        var (path, query, headers) = _b.Received.First();
        var verifier = new GatewaySignature(KeyId, Secret);
        Assert.Equal(KeyId, headers[IdentityHeaders.KeyId]);
        Assert.True(verifier.Verify("GET", path, query, long.Parse(headers[IdentityHeaders.Timestamp]), "127.0.0.1",
            new SignedIdentity("", "", "", ""), headers[IdentityHeaders.Signature]));
        // The backend cluster's key does not verify it: each team holds only its own cluster's key.
        Assert.False(GatewayInstance.Verifier.Verify("GET", path, query, long.Parse(headers[IdentityHeaders.Timestamp]), "127.0.0.1",
            new SignedIdentity("", "", "", ""), headers[IdentityHeaders.Signature]));
    }

    [Fact]
    public async Task OneDestinationKilledUnderLoad_OnlyInFlightRequestsFail_AndTrafficResumesWhenItReturns()
    {
        const int workers = 4;
        int ok = 0, failed = 0;
        using var stop = new CancellationTokenSource();
        var load = Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var response = await _gateway.Client.GetAsync("/orders/item");
                    if (response.StatusCode == HttpStatusCode.OK) Interlocked.Increment(ref ok);
                    else Interlocked.Increment(ref failed);
                }
                catch (HttpRequestException) { Interlocked.Increment(ref failed); }
            }
        })).ToArray();

        await Poll.UntilAsync(() => _a.Count >= 20 && _b.Count >= 20, "both instances served traffic");
        await _b.KillAsync();
        await Poll.UntilAsync(async () => !(await DestinationStatusAsync("b")).GetProperty("available").GetBoolean(),
            "health checks took b out of rotation");
        int okAtRemoval = Volatile.Read(ref ok);
        await Poll.UntilAsync(() => Volatile.Read(ref ok) >= okAtRemoval + 200, "200 more requests answered by a");
        int failedWhileDown = Volatile.Read(ref failed);

        // The return: same port, traffic resumes once a probe succeeds.
        _b = await Upstream.StartAsync("b", _b.Port);
        await Poll.UntilAsync(() => _b.Count >= 10, "b receives traffic again");
        await stop.CancelAsync();
        await Task.WhenAll(load);

        // Requests sent to b after the kill were failed over to a (the connection was refused, so b never saw them);
        // at most the requests in flight on b when it died can fail, one per worker.
        Assert.True(failedWhileDown <= workers, $"{failedWhileDown} requests failed; at most {workers} were in flight.");
        Assert.Equal("healthy", (await DestinationStatusAsync("b")).GetProperty("active").GetString());
        // One instance down is health's business, not the cluster breaker's.
        var breakers = _gateway.Get<Gateway.Resilience.BackendResilience>().Snapshot();
        Assert.True(!breakers.TryGetValue("orders", out var state) || state == CircuitState.Closed, $"orders breaker is {state}");
    }

    [Fact]
    public async Task AllDestinationsDown_Answers503WithAProblemNamingTheCluster()
    {
        await _a.KillAsync();
        await _b.KillAsync();
        HttpResponseMessage? last = null;
        await Poll.UntilAsync(async () =>
        {
            last = await _gateway.Client.GetAsync("/orders/item");
            // Until the next probe round the requests are refused connections (502); then every destination is out.
            return last.StatusCode == HttpStatusCode.ServiceUnavailable && last.Headers.TryGetValues("X-Gateway-Fault", out var f)
                && f.Single() == "no-healthy-destination";
        }, "the gateway answers 503 no-healthy-destination for the cluster");

        Assert.Equal("application/problem+json", last!.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await last.Content.ReadAsStringAsync());
        Assert.Equal("https://gateway.dev/problems/no-healthy-destination", problem.RootElement.GetProperty("type").GetString());
        Assert.Equal("orders", problem.RootElement.GetProperty("cluster").GetString());
        Assert.Contains("'orders'", problem.RootElement.GetProperty("detail").GetString());
        Assert.NotNull(last.Headers.RetryAfter);
        Assert.False((await DestinationStatusAsync("a")).GetProperty("available").GetBoolean());
    }

    [Fact]
    public async Task HotReload_AddsADestination_WhichThenReceivesTraffic()
    {
        await using var c = await Upstream.StartAsync("c", FreePort.Next());
        File.WriteAllText(_routeFile, RouteFiles.Shipped().Apply(j => AddOrders(j, _a.Url, _b.Url, c.Url)).ToJsonString());
        await Poll.UntilAsync(async () =>
        {
            await _gateway.Client.GetAsync("/orders/item");
            return c.Count > 0;
        }, "the added destination c receives traffic");
    }
}

internal static class JsonObjectExtensions
{
    public static JsonObject Apply(this JsonObject json, Action<JsonObject> modify)
    {
        modify(json);
        return json;
    }
}
