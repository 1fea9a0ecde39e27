using System.Net;
using System.Net.Http;
using System.Text.Json.Nodes;
using Gateway.Routing;
using Gateway.Tests.Support;

namespace Gateway.Tests.Routing;

/// <summary>The cluster fields streams need: <c>protocol</c> (h2c for cleartext gRPC) and <c>idleTimeoutSeconds</c>.</summary>
public sealed class ClusterProtocolValidationTests
{
    private static IReadOnlyList<string> Parse(JsonObject cluster, out RouteClassSnapshot? snapshot)
    {
        var json = RouteFiles.Shipped();
        json["clusters"]!["grpc"] = cluster;
        return RouteClassFileParser.Parse(json.ToJsonString(), out snapshot);
    }

    private static JsonObject Cluster(string extra) => (JsonObject)JsonNode.Parse($$"""{ "address": "http://10.0.0.7:5000" {{extra}} }""")!;

    [Fact]
    public void H2cCluster_WithIdleTimeout_BuildsYarpHttp2ExactAndActivityTimeout()
    {
        var errors = Parse(Cluster(""", "protocol": "h2c", "idleTimeoutSeconds": 300"""), out var snapshot);
        Assert.Empty(errors);
        var grpc = Assert.Single(ProxyConfigBuilder.Clusters(snapshot!, "http://127.0.0.1:8090/"), c => c.ClusterId == "grpc");
        Assert.Equal(HttpVersion.Version20, grpc.HttpRequest!.Version);
        Assert.Equal(HttpVersionPolicy.RequestVersionExact, grpc.HttpRequest.VersionPolicy);
        Assert.Equal(TimeSpan.FromSeconds(300), grpc.HttpRequest.ActivityTimeout);
    }

    [Fact]
    public void ClusterWithoutTheFields_KeepsYarpsDefaults()
    {
        var errors = Parse(Cluster(""), out var snapshot);
        Assert.Empty(errors);
        Assert.Null(Assert.Single(ProxyConfigBuilder.Clusters(snapshot!, "http://127.0.0.1:8090/"), c => c.ClusterId == "grpc").HttpRequest);
        Assert.Equal(ClusterDefinition.ProtocolAuto, snapshot!.Clusters["grpc"].Protocol);

        // An idle timeout alone changes nothing about the version negotiation.
        Assert.Empty(Parse(Cluster(""", "idleTimeoutSeconds": 45"""), out snapshot));
        var request = Assert.Single(ProxyConfigBuilder.Clusters(snapshot!, "http://127.0.0.1:8090/"), c => c.ClusterId == "grpc").HttpRequest!;
        Assert.Null(request.Version);
        Assert.Null(request.VersionPolicy);
        Assert.Equal(TimeSpan.FromSeconds(45), request.ActivityTimeout);
    }

    [Theory]
    [InlineData(""", "protocol": "http3" """, "Cluster 'grpc' has unknown 'protocol' 'http3'")]
    [InlineData(""", "protocol": 2 """, "Cluster 'grpc' has 'protocol' 2, which is not a string")]
    [InlineData(""", "idleTimeoutSeconds": 0 """, "Cluster 'grpc' has 'idleTimeoutSeconds' 0, which is not a positive number")]
    [InlineData(""", "idleTimeoutSeconds": "60" """, "Cluster 'grpc' has 'idleTimeoutSeconds' \"60\", which is not a positive number")]
    [InlineData(""", "idleTimeoutSeconds": 100000 """, "Cluster 'grpc' has 'idleTimeoutSeconds' 100000 above 86400")]
    public void BadStreamField_IsRejected_NamingTheClusterAndField(string extra, string expected)
    {
        var errors = Parse(Cluster(extra), out var snapshot);
        Assert.Null(snapshot);
        Assert.Contains(errors, e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void H2cToAnHttpsDestination_IsRejected_NamingTheDestination()
    {
        var cluster = (JsonObject)JsonNode.Parse("""{ "destinations": { "a": "http://10.0.0.7:5000", "b": "https://10.0.0.8:5001" }, "protocol": "h2c" }""")!;
        var errors = Parse(cluster, out var snapshot);
        Assert.Null(snapshot);
        var error = Assert.Single(errors);
        Assert.Contains("destination 'b' is https", error, StringComparison.Ordinal);
        Assert.Contains("use an http:// address", error, StringComparison.Ordinal);
    }
}
