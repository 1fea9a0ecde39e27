using System.Text.Json;
using Gateway.Identity;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;

namespace Gateway.Routing.Validation;

/// <summary>The 'routes' section: path patterns, methods, class and cluster references, and overlaps between routes.</summary>
internal static class RoutesValidator
{
    private static readonly string[] RouteProps =
        ["path", "methods", "hosts", "headers", "class", "cluster", "pathRemovePrefix", "requestHeaders", "responseHeaders", "sessionCookie", "evictsSessions", "evictsCache", "//"];
    private static readonly string[] HttpMethods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

    public static Dictionary<string, RouteDefinition> ParseRoutes(JsonElement root, Dictionary<string, RouteClass> classes,
        Dictionary<string, ClusterDefinition> clusters, IdentityHeaderMatcher identity, List<string> errors)
    {
        var result = new Dictionary<string, RouteDefinition>(StringComparer.Ordinal);
        var earlier = new List<RouteOverlap.Conditions>();
        if (!ConfigJson.Section(root, "routes", required: true, errors, out var section)) return result;
        foreach (var p in section.EnumerateObject())
        {
            string who = $"Route '{p.Name}'";
            if (!ConfigJson.IsObject(p.Value, who, errors)) continue;
            ConfigJson.UnknownProperties(p.Value, RouteProps, who, errors);

            string? path = ConfigJson.RequiredString(p.Value, "path", who, errors, "Set 'path' to a pattern such as \"/users/{**rest}\".");
            if (path is not null) ValidatePath(path, who, errors);

            var methods = new List<string>();
            if (p.Value.TryGetProperty("methods", out var m))
            {
                if (m.ValueKind != JsonValueKind.Array) errors.Add($"{who} has 'methods' that is not an array. Use e.g. [\"GET\", \"POST\"], or omit it to match every method.");
                else
                    foreach (var item in m.EnumerateArray())
                    {
                        string? method = item.ValueKind == JsonValueKind.String ? item.GetString() : null;
                        if (method is null || Array.IndexOf(HttpMethods, method) < 0)
                            errors.Add($"{who} has unknown method {item.GetRawText()}. Use upper-case methods from: {string.Join(", ", HttpMethods)}.");
                        // YARP refuses a repeated method, but only when a reload applies the file: at start-up the gateway
                        // aborted without naming the route, and 'validate' passed it.
                        else if (methods.Contains(method)) errors.Add($"{who} lists method '{method}' twice. List each method once.");
                        else methods.Add(method);
                    }
                // An empty list meant every method (YARP's reading of no methods): a route emptied to disable it widened instead.
                if (m.ValueKind == JsonValueKind.Array && m.GetArrayLength() == 0)
                    errors.Add($"{who} has an empty 'methods' list, which would match every method. List the methods it serves, or omit 'methods' to match every method on purpose.");
            }

            var hosts = RouteMatchValidator.Hosts(p.Value, who, errors);
            var headers = RouteMatchValidator.Headers(p.Value, who, identity, errors);

            string? cls = ConfigJson.RequiredString(p.Value, "class", who, errors, $"Set 'class' to one of: {ConfigJson.Names(classes.Keys)}.");
            if (cls is not null && !classes.ContainsKey(cls))
                errors.Add($"{who} references class '{cls}', which is not defined. Define it under 'classes' or use one of: {ConfigJson.Names(classes.Keys)}.");
            string? cluster = ConfigJson.RequiredString(p.Value, "cluster", who, errors, $"Set 'cluster' to one of: {ConfigJson.Names(clusters.Keys)}.");
            if (cluster is not null && !clusters.ContainsKey(cluster))
                errors.Add($"{who} references cluster '{cluster}', which is not defined. Define it under 'clusters' or use one of: {ConfigJson.Names(clusters.Keys)}.");

            string? removePrefix = null;
            if (p.Value.TryGetProperty("pathRemovePrefix", out var rp))
            {
                removePrefix = rp.ValueKind == JsonValueKind.String ? rp.GetString() : null;
                if (removePrefix is null || !removePrefix.StartsWith('/') || removePrefix.EndsWith('/') || removePrefix.Contains('{'))
                    errors.Add($"{who} has 'pathRemovePrefix' {rp.GetRawText()}, which is not a literal path prefix. Use e.g. \"/api\" (leading '/', no trailing '/', no parameters).");
                else if (path is not null && !path.StartsWith(removePrefix + "/", StringComparison.OrdinalIgnoreCase))
                    errors.Add($"{who} has 'pathRemovePrefix' '{removePrefix}', but its path '{path}' does not start with '{removePrefix}/'. Make the path start with the prefix.");
            }

            var requestHeaders = HeaderTransformsValidator.Parse(p.Value, "requestHeaders", who, identity, errors);
            var responseHeaders = HeaderTransformsValidator.Parse(p.Value, "responseHeaders", who, identity, errors);

            string? sessionCookie = SessionCookie(p.Value, methods, who, errors);
            bool evictsSessions = UnsafeMethodFlag(p.Value, "evictsSessions", methods, who, errors,
                "Limit it to the methods that change sessions, e.g. \"methods\": [\"PUT\"]: on reads it would cost every request an L1 miss.");
            bool evictsCache = UnsafeMethodFlag(p.Value, "evictsCache", methods, who, errors,
                "Limit it to the methods that change what cached reads show, e.g. \"methods\": [\"PUT\"]: on reads it would empty the caller's cache on every request.");

            if (path is not null)
            {
                // Same path on other hosts or for other header values is another team's route, not a duplicate; the
                // same path where one request could match both at the same rank is (RouteOverlap).
                var conditions = new RouteOverlap.Conditions(p.Name, NormalisePath(path), methods.Count == 0 ? ["*"] : [.. methods], hosts, headers);
                if (earlier.Find(e => RouteOverlap.Ambiguous(e, conditions)) is { } other)
                    errors.Add((hosts.Count == 0 && headers.Count == 0) || MatchShape(hosts, headers) == MatchShape(other.Hosts, other.Headers)
                        ? $"{who} duplicates the path '{path}' of route '{other.Name}' for the same methods. Remove one of them or give them different 'methods'."
                        : $"{who} and route '{other.Name}' both match some requests to '{path}' for the same methods, and neither ranks first: every such request would fail. Make their 'hosts' disjoint, or their header conditions exclusive (different values of one header, or Exists beside NotExists), or give one more header conditions than the other.");
                earlier.Add(conditions);
            }
            result[p.Name] = new RouteDefinition(p.Name, path ?? "", methods, cls ?? "", cluster ?? "", removePrefix,
                hosts.Count == 0 ? null : hosts, headers.Count == 0 ? null : headers, requestHeaders, responseHeaders, sessionCookie, evictsSessions, evictsCache);
        }
        return result;
    }

    /// <summary>
    /// 'sessionCookie': 'issue' or 'clear', only on routes limited to unsafe methods. A GET can be triggered by any page
    /// (a link, an image), so a route that sets or clears the session cookie on GET would hand other sites a login or
    /// logout button; unsafe methods pass the gateway's CSRF origin check first.
    /// </summary>
    private static string? SessionCookie(JsonElement route, List<string> methods, string who, List<string> errors)
    {
        string? value = ConfigJson.OptionalString(route, "sessionCookie", who, errors);
        if (value is null) return null;
        if (value is not (RouteDefinition.CookieIssue or RouteDefinition.CookieClear))
        {
            errors.Add($"{who} has unknown sessionCookie '{value}'. Use 'issue' (a login route) or 'clear' (a logout route), or remove it.");
            return null;
        }
        if (methods.Count == 0 || methods.Exists(m => m is "GET" or "HEAD" or "OPTIONS"))
            errors.Add($"{who} has sessionCookie '{value}' but {(methods.Count == 0 ? "matches every method" : "matches a safe method")}. Limit it to unsafe methods, e.g. \"methods\": [\"POST\"]: other sites can trigger a GET.");
        return value;
    }

    /// <summary>
    /// 'evictsSessions' or 'evictsCache': true or false, true only on routes limited to unsafe methods: every 2xx of the
    /// route evicts the caller's sessions from L1 or its cached responses, which on a read route would be every request.
    /// </summary>
    private static bool UnsafeMethodFlag(JsonElement route, string name, List<string> methods, string who, List<string> errors, string fix)
    {
        if (!route.TryGetProperty(name, out var value)) return false;
        if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            errors.Add($"{who} has '{name}' {value.GetRawText()}. Use true or false.");
            return false;
        }
        if (value.ValueKind == JsonValueKind.False) return false;
        if (methods.Count == 0 || methods.Exists(m => m is "GET" or "HEAD" or "OPTIONS"))
            errors.Add($"{who} has '{name}' but {(methods.Count == 0 ? "matches every method" : "matches a safe method")}. {fix}");
        return true;
    }

    /// <summary>Hosts and header conditions in a canonical form (sorted, case-folded): the same shape is a duplicate.</summary>
    private static string MatchShape(IReadOnlyList<string> hosts, IReadOnlyList<RouteHeaderMatch> headers)
    {
        if (hosts.Count == 0 && headers.Count == 0) return "";
        var sortedHosts = hosts.Select(h => h.ToLowerInvariant()).Order(StringComparer.Ordinal);
        var sortedHeaders = headers.Select(h => $"{h.Name.ToLowerInvariant()}:{h.Mode}:{h.IsCaseSensitive}:{string.Join(",", h.Values.Order(StringComparer.Ordinal))}")
            .Order(StringComparer.Ordinal);
        return " hosts=" + string.Join(",", sortedHosts) + " headers=" + string.Join(";", sortedHeaders);
    }

    private static void ValidatePath(string path, string who, List<string> errors)
    {
        if (!path.StartsWith('/'))
        {
            errors.Add($"{who} has path '{path}', which does not start with '/'. Write it as '/{path}'.");
            return;
        }
        if (path.AsSpan().IndexOfAny("?# \t") >= 0)
        {
            errors.Add($"{who} has path '{path}' containing a query, fragment or whitespace. Use only the path part, e.g. \"/users/{{**rest}}\".");
            return;
        }
        RoutePattern pattern;
        try { pattern = RoutePatternFactory.Parse(path); }
        catch (RoutePatternException ex)
        {
            errors.Add($"{who} has malformed path '{path}': {ex.Message} Use literal segments, '{{name}}' parameters and a final '{{**rest}}' catch-all.");
            return;
        }
        ValidateConstraints(pattern, path, who, errors);
        string lower = path.ToLowerInvariant();
        if (lower == "/internal" || lower.StartsWith("/internal/", StringComparison.Ordinal) || lower.StartsWith("/{", StringComparison.Ordinal))
            errors.Add($"{who} has path '{path}', which would expose /internal/** to clients. The gateway never proxies /internal; use a more specific path.");
        if (lower is "/health" or "/ready")
            errors.Add($"{who} has path '{path}', which the gateway answers itself. Remove the route.");
        // Served on the operator listener only: such a route was a 404 on the public port, and on the operator port any
        // /gateway/x no operator endpoint serves was proxied under the route's class, with no admin check.
        if (Gateway.Observability.AdminListener.IsOperatorPath(new Microsoft.AspNetCore.Http.PathString(path)))
            errors.Add($"{who} has path '{path}', under /gateway or /metrics, which the gateway keeps for its operator endpoints. Use another path, e.g. \"/api{path}\" with \"pathRemovePrefix\": \"/api\".");
    }

    // Routing's own resolver, registered as YARP registers it for the gateway (AddRouting, regex included): what resolves
    // here resolves there.
    private static readonly Lazy<ParameterPolicyFactory> ConstraintResolver = new(() =>
        new ServiceCollection().AddLogging().AddRouting().BuildServiceProvider().GetRequiredService<ParameterPolicyFactory>());

    /// <summary>
    /// Parameter constraints (<c>{id:guid}</c>, <c>{n:min(1)}</c>) are resolved only when routing builds its matcher, so
    /// a misspelt one (<c>{id:guidd}</c>) parsed fine, then failed every request with a 500 at start, or on a reload
    /// left routing on the previous routes while classes came from the new file. Resolved here, as routing resolves them.
    /// </summary>
    private static void ValidateConstraints(RoutePattern pattern, string path, string who, List<string> errors)
    {
        foreach (var parameter in pattern.Parameters)
            foreach (var reference in parameter.ParameterPolicies)
            {
                try
                {
                    // A regex constraint compiles its pattern on first use (a request): compiled here instead.
                    if (ConstraintResolver.Value.Create(parameter, reference) is Microsoft.AspNetCore.Routing.Constraints.RegexRouteConstraint regex)
                        _ = regex.Constraint;
                }
                catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or FormatException or RouteCreationException)
                {
                    errors.Add($"{who} has path '{path}' whose parameter '{parameter.Name}' has constraint '{reference.Content}', which routing cannot use: " +
                        $"{ex.Message} Use one of ASP.NET Core's route constraints (int, long, guid, bool, alpha, min(n), max(n), minlength(n), maxlength(n), length(n), range(a,b), regex(...)), or remove it.");
                }
            }
    }

    private static string NormalisePath(string path)
    {
        // Parameter names do not matter for overlap: "/orgs/{id}" and "/orgs/{orgId}" are the same route.
        var sb = new System.Text.StringBuilder(path.Length);
        int depth = 0;
        foreach (char c in path.TrimEnd('/'))
        {
            if (c == '{') { depth++; if (depth == 1) sb.Append('{'); continue; }
            if (c == '}') { depth--; if (depth == 0) sb.Append('}'); continue; }
            if (depth == 0) sb.Append(char.ToLowerInvariant(c));
            else if (c == '*' && sb[^1] == '{') sb.Append('*');
        }
        return sb.ToString();
    }
}
