using System.Net;
using System.Text.Json.Nodes;
using Gateway.Tests.Support;

namespace Gateway.Tests.Routing;

/// <summary>
/// Two routes of one path on different values of one header pass validation (no single value selects both), but YARP
/// matches each of a header's comma-separated values: a request carrying both values satisfies both routes.
/// </summary>
public sealed class AmbiguousRequestTests
{
    [Fact]
    public async Task ARequestThatTwoRoutesMatchAtTheSameRank_Is400_NotA500()
    {
        await using var backend = await FakeSessionBackend.StartAsync();
        string routes = RouteFiles.CreateTemp(j =>
        {
            foreach (var tenant in new[] { "a", "b" })
                j["routes"]![$"shop-{tenant}"] = new JsonObject
                {
                    ["path"] = "/shop/{**rest}", ["class"] = "health", ["cluster"] = "backend",
                    ["headers"] = JsonNode.Parse($$"""[{ "name": "X-Tenant", "values": ["{{tenant}}"] }]"""),
                };
        });
        await using var gateway = await GatewayInstance.StartAsync(backend.BaseUrl, "127.0.0.1:1,abortConnect=false", routes);

        async Task<HttpResponseMessage> Shop(string tenant)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "/shop/items");
            request.Headers.TryAddWithoutValidation("X-Tenant", tenant);
            return await gateway.Client.SendAsync(request);
        }
        var first = await Shop("a");
        Assert.True(first.StatusCode == HttpStatusCode.OK, await first.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await Shop("b")).StatusCode);
        var both = await Shop("a, b");
        Assert.Equal(HttpStatusCode.BadRequest, both.StatusCode);
        Assert.Contains("ambiguous-request", await both.Content.ReadAsStringAsync());
    }
}
