using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;
using Gateway.Pipeline;
using Gateway.Routing;
using Gateway.Streams;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Streams;

/// <summary>
/// A reload reaches streams already open. Until 2026-12-06 they kept the class they opened with: a class tightened to
/// a role, or a route removed, left its WebSockets and event streams open for as long as they lived.
/// </summary>
public sealed class StreamReclassificationTests
{
    private static RouteClassSnapshot Snapshot(Action<JsonObject>? modify = null)
    {
        var json = RouteFiles.Shipped();
        modify?.Invoke(json);
        Assert.Empty(RouteClassFileParser.Parse(json.ToJsonString(), out var snapshot));
        return snapshot!;
    }

    [Fact]
    public void AReload_ClosesTheStreamsItNoLongerServesAsTheyOpened_AndLeavesTheOthers()
    {
        var before = Snapshot();
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var registry = new StreamRegistry(TimeProvider.System, services.GetRequiredService<IMeterFactory>());
        OpenStream Open(string routeId) => registry.TryRegister(new DefaultHttpContext(), new GatewayRequestFeature { RouteId = routeId },
            StreamKind.WebSocket, before.ClassOrDefault(before.Routes[routeId].Class), StreamCounts.None, 0, 0)!;
        var removed = Open("invitations");
        var tightened = Open("audit");
        var untouched = Open("users");

        var after = Snapshot(j =>
        {
            ((JsonObject)j["routes"]!).Remove("invitations");
            j["classes"]!["standard"]!["auth"] = "role:admin";   // audit's class now asks for a role
        });
        new StreamReclassification(new FixedRoutes(after), registry, NullLogger<StreamReclassification>.Instance).OnChanged(after);

        Assert.Equal(StreamReclassification.Reason, removed.ClosedBecause);
        Assert.Equal(StreamReclassification.Reason, tightened.ClosedBecause);
        Assert.Null(untouched.ClosedBecause);
    }

    private sealed class FixedRoutes(RouteClassSnapshot snapshot) : IRouteTable
    {
        public RouteClassSnapshot Current => snapshot;
        public ConfigReloadStatus LastReload => throw new NotSupportedException();
        public event Action<RouteClassSnapshot>? Changed { add { } remove { } }
    }
}
