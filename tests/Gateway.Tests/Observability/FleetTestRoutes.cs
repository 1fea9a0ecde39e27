using System.Text.Json.Nodes;
using Gateway.Tests.Support;

namespace Gateway.Tests.Observability;

/// <summary>
/// The shipped route file plus anonymous routes for fleet and budget tests: <c>/open/**</c> (standard, 200 ms),
/// <c>/tight/**</c> (a 1 ms budget no proxied request can meet) and <c>/roomy/**</c> (a 10 s budget).
/// </summary>
internal static class FleetTestRoutes
{
    public static string Create() => RouteFiles.CreateTemp(json =>
    {
        json["classes"]!["open"] = Anonymous(200);
        json["classes"]!["tight"] = Anonymous(1);
        json["classes"]!["roomy"] = Anonymous(10_000);
        RouteFiles.AddRoute(json, "open", "/open/{**rest}", "open");
        RouteFiles.AddRoute(json, "tight", "/tight/{**rest}", "tight");
        RouteFiles.AddRoute(json, "roomy", "/roomy/{**rest}", "roomy");
    });

    private static JsonObject Anonymous(double budgetMs) =>
        new() { ["tier"] = "standard", ["budgetMs"] = budgetMs, ["auth"] = "anonymous", ["timeoutMs"] = 5000 };
}
