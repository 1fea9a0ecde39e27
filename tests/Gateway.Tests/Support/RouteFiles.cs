using System.Text.Json.Nodes;

namespace Gateway.Tests.Support;

/// <summary>
/// Copies of the shipped config/route-classes.json in a temp folder, optionally modified by the test. The copies raise the
/// shipped <c>login</c> policy (10 per minute per client address) out of reach: every gateway on the assembly's shared
/// Redis sees the tests' one address, 127.0.0.1, so that budget was shared by every test class that registers or logs
/// in, and whichever came eleventh in a minute was answered 429 (IdentityHeaderHygieneTests was, in a full run). Tests
/// of the login limit define their own policy under a unique name (RateLimitingMiddlewareTests).
/// </summary>
public static class RouteFiles
{
    public static string ShippedPath
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "config", "route-classes.json");
                if (File.Exists(candidate)) return candidate;
            }
            throw new FileNotFoundException("config/route-classes.json not found above the test output folder.");
        }
    }

    public static JsonObject Shipped() => JsonNode.Parse(File.ReadAllText(ShippedPath), documentOptions: new() { CommentHandling = System.Text.Json.JsonCommentHandling.Skip })!.AsObject();

    public static string CreateTemp(Action<JsonObject>? modify = null)
    {
        var json = Shipped();
        json["rateLimitPolicies"]!["login"]!["limit"] = 1_000_000;
        modify?.Invoke(json);
        var dir = Directory.CreateTempSubdirectory("gwtest-routes-").FullName;
        var path = Path.Combine(dir, "route-classes.json");
        File.WriteAllText(path, json.ToJsonString());
        return path;
    }

    /// <summary>Writes <paramref name="json"/> as a route-class file in a fresh temp folder and returns its path.</summary>
    public static string WriteTemp(string json)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("gwtest-routes-").FullName, "routes.json");
        File.WriteAllText(path, json);
        return path;
    }

    /// <summary>Adds an anonymous class and a route for it (used by hot reload and role tests).</summary>
    public static void AddRoute(JsonObject json, string name, string path, string cls, string? methods = null)
    {
        var route = new JsonObject { ["path"] = path, ["class"] = cls, ["cluster"] = "backend" };
        if (methods is not null) route["methods"] = new JsonArray(methods);
        json["routes"]![name] = route;
    }
}
