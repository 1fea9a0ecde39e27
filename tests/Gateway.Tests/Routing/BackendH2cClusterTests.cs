using System.Net;
using System.Net.Http;
using System.Text.Json.Nodes;
using Gateway.Routing;
using Gateway.Tests.Support;

namespace Gateway.Tests.Routing;

/// <summary>
/// <c>Backend:H2cUrl</c> (docs/gateway.md, "The backend over HTTP/2"): the clusters that are only the default backend
/// (the <c>""</c> address) and leave the protocol to the gateway go to the backend's h2c listener over HTTP/2 exactly;
/// every other cluster is left as the route file says.
/// </summary>
public sealed class BackendH2cClusterTests
{
    private const string BaseUrl = "http://127.0.0.1:8090/";
    private const string H2cUrl = "http://127.0.0.1:8091/";

    private static RouteClassSnapshot Snapshot(params (string Name, string Json)[] clusters)
    {
        var json = RouteFiles.Shipped();
        foreach (var (name, cluster) in clusters) json["clusters"]![name] = JsonNode.Parse(cluster);
        Assert.Empty(RouteClassFileParser.Parse(json.ToJsonString(), out var snapshot));
        return snapshot!;
    }

    [Fact]
    public void TheShippedBackendCluster_GoesToTheH2cListener_OverHttp2Exactly()
    {
        var backend = Assert.Single(ProxyConfigBuilder.Clusters(Snapshot(), BaseUrl, H2cUrl), c => c.ClusterId == "backend");

        Assert.Equal(H2cUrl, Assert.Single(backend.Destinations!.Values).Address);
        Assert.Equal(HttpVersion.Version20, backend.HttpRequest!.Version);
        Assert.Equal(HttpVersionPolicy.RequestVersionExact, backend.HttpRequest.VersionPolicy);
        // One connection: its frames share system calls, and the backend's stream limit caps the requests in flight.
        Assert.False(backend.HttpClient!.EnableMultipleHttp2Connections);
    }

    [Fact]
    public void WithoutTheSetting_TheBackendClusterStaysOnHttp11ToBaseUrl()
    {
        var backend = Assert.Single(ProxyConfigBuilder.Clusters(Snapshot(), BaseUrl, null), c => c.ClusterId == "backend");

        Assert.Equal(BaseUrl, Assert.Single(backend.Destinations!.Values).Address);
        Assert.Null(backend.HttpRequest);
        Assert.Null(backend.HttpClient);
    }

    [Fact]
    public void ClustersThatNameTheirOwnAddressesOrProtocol_AreLeftAsTheFileSays()
    {
        var snapshot = Snapshot(
            ("orders", """{ "address": "http://10.0.0.7:5000" }"""),
            ("grpc", """{ "address": "", "protocol": "h2c", "idleTimeoutSeconds": 300 }"""));
        var clusters = ProxyConfigBuilder.Clusters(snapshot, BaseUrl, H2cUrl).ToDictionary(c => c.ClusterId);

        Assert.Equal("http://10.0.0.7:5000", Assert.Single(clusters["orders"].Destinations!.Values).Address);
        Assert.Null(clusters["orders"].HttpRequest);
        // A cluster that states h2c itself keeps its own choice, with the default backend's ordinary address.
        Assert.Equal(BaseUrl, Assert.Single(clusters["grpc"].Destinations!.Values).Address);
        Assert.Equal(TimeSpan.FromSeconds(300), clusters["grpc"].HttpRequest!.ActivityTimeout);
        Assert.Null(clusters["grpc"].HttpClient);
    }

    [Fact]
    public void AnIdleTimeoutOnTheDefaultBackend_IsKeptNextToHttp2()
    {
        var snapshot = Snapshot(("backend", """{ "address": "", "idleTimeoutSeconds": 45 }"""));
        var request = Assert.Single(ProxyConfigBuilder.Clusters(snapshot, BaseUrl, H2cUrl), c => c.ClusterId == "backend").HttpRequest!;

        Assert.Equal(HttpVersion.Version20, request.Version);
        Assert.Equal(TimeSpan.FromSeconds(45), request.ActivityTimeout);
    }
}
