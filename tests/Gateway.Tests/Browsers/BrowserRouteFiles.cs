using System.Text.Json.Nodes;
using Gateway.Tests.Support;

namespace Gateway.Tests.Browsers;

/// <summary>The shipped route file with a credentialed CORS policy 'web' on the auth and standard classes.</summary>
internal static class BrowserRouteFiles
{
    public static string Create(string allowedOrigin, Action<JsonObject>? modify = null) => RouteFiles.CreateTemp(j =>
    {
        j["corsPolicies"] = new JsonObject
        {
            ["web"] = new JsonObject
            {
                ["origins"] = new JsonArray(allowedOrigin),
                ["methods"] = new JsonArray("GET", "POST", "DELETE"),
                ["headers"] = new JsonArray("Content-Type", "Authorization", "X-Select-Org", "X-Session-Cookie"),
                ["exposeHeaders"] = new JsonArray("X-Request-Id"),
                ["credentials"] = true,
                ["maxAgeSeconds"] = 600,
            },
        };
        foreach (var cls in new[] { "auth-anonymous", "critical-auth", "critical-auth-cached", "standard" })
            j["classes"]![cls]!["cors"] = "web";
        modify?.Invoke(j);
    });
}
