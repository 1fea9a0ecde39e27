using System.Collections.Frozen;
using System.Text.Json;
using Microsoft.AspNetCore.Routing.Patterns;

namespace Gateway.Routing;

/// <summary>
/// Parses and validates <c>config/route-classes.json</c>. Collects every error before failing; each message names
/// the entry, what is wrong and how to fix it. A snapshot is returned only when there are no errors at all.
/// </summary>
public static class RouteClassFileParser
{
    public static readonly string[] Tiers = ["ultra-fast", "critical-auth", "standard"];
    public static readonly string[] FailModes = [RouteClass.FailClosed, RouteClass.FailResilient];
    // Exactly what Gateway.RateLimiting implements: a name accepted here must never fail at request time.
    public static readonly string[] Algorithms = ["sliding-window", "token-bucket"];
    public static readonly string[] Partitions = ["ip", "user", "ip+account"];
    private const string AuthValues = "'anonymous', 'session', 'role:member', 'role:admin' or 'role:owner'";

    private static readonly string[] TopLevel = ["version", "defaultClass", "classes", "routes", "clusters", "rateLimitPolicies", "cachePolicies", "identityHeaders", "$schema", "//"];
    private static readonly string[] ClassProps = ["tier", "budgetMs", "auth", "timeoutMs", "rateLimit", "cache", "failMode", "maxBodyBytes", "//"];
    private static readonly string[] RouteProps = ["path", "methods", "class", "cluster", "pathRemovePrefix", "//"];
    private static readonly string[] ClusterProps = ["address", "//"];
    private static readonly string[] RateLimitProps = ["algorithm", "limit", "windowSeconds", "burst", "partition", "//"];
    private static readonly string[] CacheProps = ["ttlSeconds", "varyByOrg", "//"];
    private static readonly string[] HttpMethods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

    private static readonly JsonDocumentOptions DocumentOptions = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    /// <summary>Reads and validates a file. Returns the errors (empty when valid) and the snapshot when valid.</summary>
    public static IReadOnlyList<string> ParseFile(string path, out RouteClassSnapshot? snapshot)
    {
        snapshot = null;
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [$"The route-class file '{path}' could not be read: {ex.Message}. Check the path (setting RouteClasses:Path) and the file permissions."];
        }
        return Parse(text, out snapshot);
    }

    /// <summary>Validates file content. Returns the errors (empty when valid) and the snapshot when valid.</summary>
    public static IReadOnlyList<string> Parse(string json, out RouteClassSnapshot? snapshot)
    {
        snapshot = null;
        var errors = new List<string>();
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json, DocumentOptions); }
        catch (JsonException ex)
        {
            errors.Add($"The file is not valid JSON at line {(ex.LineNumber ?? 0) + 1}, position {(ex.BytePositionInLine ?? 0) + 1}: {FirstSentence(ex.Message)} Fix the syntax there (a missing comma, quote or brace is the usual cause).");
            return errors;
        }
        catch (ArgumentException)
        {
            // Only a string that is not valid UTF-16 (a lone surrogate) gets here: files read from disk never hold one.
            errors.Add("The file is not valid text: it holds an unpaired UTF-16 surrogate. Save it as UTF-8.");
            return errors;
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                errors.Add("The file must contain one JSON object with 'version', 'defaultClass', 'classes', 'routes' and 'clusters'.");
                return errors;
            }
            UnknownProperties(root, TopLevel, "The file", errors);

            string version = RequiredString(root, "version", "The file", errors, "Set 'version' to a label such as \"2026-11-22.1\".") ?? "";
            string? defaultClass = RequiredString(root, "defaultClass", "The file", errors, "Set 'defaultClass' to the class used for requests that match no route, e.g. \"standard\".");

            var rateLimits = ParseRateLimitPolicies(root, errors);
            var caches = ParseCachePolicies(root, errors);
            var classes = ParseClasses(root, rateLimits, caches, errors);
            var clusters = ParseClusters(root, errors);
            var routes = ParseRoutes(root, classes, clusters, errors);
            var additional = ParseIdentityHeaders(root, errors);

            if (defaultClass is not null && classes.Count > 0 && !classes.ContainsKey(defaultClass))
                errors.Add($"'defaultClass' is '{defaultClass}', which is not defined. Define it under 'classes' or use one of: {Names(classes.Keys)}.");

            if (errors.Count > 0) return errors;

            snapshot = new RouteClassSnapshot
            {
                Version = version,
                DefaultClass = classes[defaultClass!],
                Classes = classes.ToFrozenDictionary(StringComparer.Ordinal),
                Routes = routes.ToFrozenDictionary(StringComparer.Ordinal),
                Clusters = clusters.ToFrozenDictionary(StringComparer.Ordinal),
                RateLimitPolicies = rateLimits.ToFrozenDictionary(StringComparer.Ordinal),
                CachePolicies = caches.ToFrozenDictionary(StringComparer.Ordinal),
                AdditionalIdentityHeaders = additional,
            };
            return errors;
        }
    }

    private static Dictionary<string, RouteClass> ParseClasses(JsonElement root, Dictionary<string, RateLimitPolicyConfig> rateLimits,
        Dictionary<string, CachePolicyConfig> caches, List<string> errors)
    {
        var result = new Dictionary<string, RouteClass>(StringComparer.Ordinal);
        if (!Section(root, "classes", required: true, errors, out var section)) return result;
        foreach (var p in section.EnumerateObject())
        {
            string who = $"Class '{p.Name}'";
            if (!IsObject(p.Value, who, errors)) continue;
            int before = errors.Count;
            UnknownProperties(p.Value, ClassProps, who, errors);

            string? tier = RequiredString(p.Value, "tier", who, errors, $"Set 'tier' to one of: {string.Join(", ", Tiers)}.");
            if (tier is not null && Array.IndexOf(Tiers, tier) < 0)
                errors.Add($"{who} has unknown tier '{tier}'. Use one of: {string.Join(", ", Tiers)}.");

            double budget = PositiveNumber(p.Value, "budgetMs", who, errors, required: true) ?? 0;
            double timeout = PositiveNumber(p.Value, "timeoutMs", who, errors, required: true) ?? 0;
            if (timeout > int.MaxValue) errors.Add($"{who} has 'timeoutMs' {timeout}, which is too large. Use a value below {int.MaxValue}.");

            var auth = AuthKind.Session;
            var minRole = OrgRole.None;
            string? authText = RequiredString(p.Value, "auth", who, errors, $"Set 'auth' to {AuthValues}.");
            if (authText is not null && !TryParseAuth(authText, out auth, out minRole))
                errors.Add($"{who} has invalid auth '{authText}'. Use {AuthValues}.");

            string? rateLimit = OptionalString(p.Value, "rateLimit", who, errors);
            if (rateLimit is not null && !rateLimits.ContainsKey(rateLimit))
                errors.Add($"{who} references rate-limit policy '{rateLimit}', which is not defined. Define it under 'rateLimitPolicies' or use one of: {Names(rateLimits.Keys)}.");
            string? cache = OptionalString(p.Value, "cache", who, errors);
            if (cache is not null && !caches.ContainsKey(cache))
                errors.Add($"{who} references cache policy '{cache}', which is not defined. Define it under 'cachePolicies' or use one of: {Names(caches.Keys)}.");
            string failMode = OptionalString(p.Value, "failMode", who, errors) ?? RouteClass.FailClosed;
            if (Array.IndexOf(FailModes, failMode) < 0)
                errors.Add($"{who} has unknown failMode '{failMode}'. Use 'closed' (validate through the backend while Redis is down) or 'resilient' (also accept sessions already in the in-process cache).");

            long? maxBody = MaxBodyBytes(p.Value, who, errors);

            if (errors.Count == before)
                result[p.Name] = new RouteClass(p.Name, tier!, budget, auth, minRole, (int)timeout, rateLimit, cache, failMode, maxBody);
            else
                result[p.Name] = new RouteClass(p.Name, tier ?? "", budget, auth, minRole, 1, rateLimit, cache, failMode);
        }
        if (result.Count == 0) errors.Add("'classes' is empty. Define at least the default class.");
        return result;
    }

    private static long? MaxBodyBytes(JsonElement e, string who, List<string> errors)
    {
        if (!e.TryGetProperty("maxBodyBytes", out var v)) return null;
        // TryGetInt64 refuses fractions and exponents such as 6.5e4, so "1.5" KiB-style guesses are caught, not truncated.
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out long bytes) && bytes > 0) return bytes;
        errors.Add($"{who} has 'maxBodyBytes' {v.GetRawText()}, which is not a positive whole number of bytes. " +
            "Use e.g. 65536 for 64 KiB, or remove it to use Kestrel:Limits:MaxRequestBodySize.");
        return null;
    }

    private static bool TryParseAuth(string text, out AuthKind kind, out OrgRole role)
    {
        role = OrgRole.None;
        kind = AuthKind.Session;
        if (text == "anonymous") { kind = AuthKind.Anonymous; return true; }
        if (text == "session") return true;
        if (text.StartsWith("role:", StringComparison.Ordinal))
        {
            role = OrgRoles.Parse(text[5..]);
            kind = AuthKind.Role;
            return role != OrgRole.None;
        }
        return false;
    }

    private static Dictionary<string, ClusterDefinition> ParseClusters(JsonElement root, List<string> errors)
    {
        var result = new Dictionary<string, ClusterDefinition>(StringComparer.Ordinal);
        if (!Section(root, "clusters", required: true, errors, out var section)) return result;
        foreach (var p in section.EnumerateObject())
        {
            string who = $"Cluster '{p.Name}'";
            if (!IsObject(p.Value, who, errors)) continue;
            UnknownProperties(p.Value, ClusterProps, who, errors);
            string address = OptionalString(p.Value, "address", who, errors) ?? "";
            if (address.Length > 0 && (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https")))
                errors.Add($"{who} has address '{address}', which is not an absolute http(s) URL. Use e.g. \"http://127.0.0.1:8090\", or \"\" to use Backend:BaseUrl.");
            result[p.Name] = new ClusterDefinition(p.Name, address);
        }
        return result;
    }

    private static Dictionary<string, RouteDefinition> ParseRoutes(JsonElement root, Dictionary<string, RouteClass> classes,
        Dictionary<string, ClusterDefinition> clusters, List<string> errors)
    {
        var result = new Dictionary<string, RouteDefinition>(StringComparer.Ordinal);
        var seen = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (!Section(root, "routes", required: true, errors, out var section)) return result;
        foreach (var p in section.EnumerateObject())
        {
            string who = $"Route '{p.Name}'";
            if (!IsObject(p.Value, who, errors)) continue;
            UnknownProperties(p.Value, RouteProps, who, errors);

            string? path = RequiredString(p.Value, "path", who, errors, "Set 'path' to a pattern such as \"/users/{**rest}\".");
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
                        else methods.Add(method);
                    }
            }

            string? cls = RequiredString(p.Value, "class", who, errors, $"Set 'class' to one of: {Names(classes.Keys)}.");
            if (cls is not null && !classes.ContainsKey(cls))
                errors.Add($"{who} references class '{cls}', which is not defined. Define it under 'classes' or use one of: {Names(classes.Keys)}.");
            string? cluster = RequiredString(p.Value, "cluster", who, errors, $"Set 'cluster' to one of: {Names(clusters.Keys)}.");
            if (cluster is not null && !clusters.ContainsKey(cluster))
                errors.Add($"{who} references cluster '{cluster}', which is not defined. Define it under 'clusters' or use one of: {Names(clusters.Keys)}.");

            string? removePrefix = null;
            if (p.Value.TryGetProperty("pathRemovePrefix", out var rp))
            {
                removePrefix = rp.ValueKind == JsonValueKind.String ? rp.GetString() : null;
                if (removePrefix is null || !removePrefix.StartsWith('/') || removePrefix.EndsWith('/') || removePrefix.Contains('{'))
                    errors.Add($"{who} has 'pathRemovePrefix' {rp.GetRawText()}, which is not a literal path prefix. Use e.g. \"/api\" (leading '/', no trailing '/', no parameters).");
                else if (path is not null && !path.StartsWith(removePrefix + "/", StringComparison.OrdinalIgnoreCase))
                    errors.Add($"{who} has 'pathRemovePrefix' '{removePrefix}', but its path '{path}' does not start with '{removePrefix}/'. Make the path start with the prefix.");
            }

            if (path is not null)
            {
                string[] keys = methods.Count == 0 ? ["*"] : [.. methods];
                string shape = NormalisePath(path);
                foreach (var method in keys)
                {
                    // A route without methods overlaps every method of the same path, and the reverse.
                    foreach (var probe in method == "*" ? [.. HttpMethods, "*"] : new[] { method, "*" })
                        if (seen.TryGetValue(probe + " " + shape, out var other))
                        {
                            errors.Add($"{who} duplicates the path '{path}' of route '{other}' for the same methods. Remove one of them or give them different 'methods'.");
                            goto recorded;
                        }
                }
            recorded:
                foreach (var method in keys) seen.TryAdd(method + " " + shape, p.Name);
            }
            result[p.Name] = new RouteDefinition(p.Name, path ?? "", methods, cls ?? "", cluster ?? "", removePrefix);
        }
        return result;
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
        try { RoutePatternFactory.Parse(path); }
        catch (RoutePatternException ex)
        {
            errors.Add($"{who} has malformed path '{path}': {ex.Message} Use literal segments, '{{name}}' parameters and a final '{{**rest}}' catch-all.");
            return;
        }
        string lower = path.ToLowerInvariant();
        if (lower == "/internal" || lower.StartsWith("/internal/", StringComparison.Ordinal) || lower.StartsWith("/{", StringComparison.Ordinal))
            errors.Add($"{who} has path '{path}', which would expose /internal/** to clients. The gateway never proxies /internal; use a more specific path.");
        if (lower is "/health" or "/ready")
            errors.Add($"{who} has path '{path}', which the gateway answers itself. Remove the route.");
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

    private static Dictionary<string, RateLimitPolicyConfig> ParseRateLimitPolicies(JsonElement root, List<string> errors)
    {
        var result = new Dictionary<string, RateLimitPolicyConfig>(StringComparer.Ordinal);
        if (!Section(root, "rateLimitPolicies", required: false, errors, out var section)) return result;
        foreach (var p in section.EnumerateObject())
        {
            string who = $"Rate-limit policy '{p.Name}'";
            if (!IsObject(p.Value, who, errors)) continue;
            UnknownProperties(p.Value, RateLimitProps, who, errors);
            string? algorithm = RequiredString(p.Value, "algorithm", who, errors, $"Set 'algorithm' to one of: {string.Join(", ", Algorithms)}.");
            if (algorithm is not null && Array.IndexOf(Algorithms, algorithm) < 0)
                errors.Add($"{who} has unknown algorithm '{algorithm}'. Use one of: {string.Join(", ", Algorithms)}.");
            double limit = PositiveNumber(p.Value, "limit", who, errors, required: true, integer: true) ?? 0;
            double window = PositiveNumber(p.Value, "windowSeconds", who, errors, required: true) ?? 0;
            double? burst = PositiveNumber(p.Value, "burst", who, errors, required: false, integer: true);
            if (burst is not null && burst < limit)
                errors.Add($"{who} has 'burst' {burst} below 'limit' {limit}. Set 'burst' to at least the limit, or omit it.");
            string? partition = RequiredString(p.Value, "partition", who, errors, $"Set 'partition' to one of: {string.Join(", ", Partitions)}.");
            if (partition is not null && Array.IndexOf(Partitions, partition) < 0)
                errors.Add($"{who} has unknown partition '{partition}'. Use one of: {string.Join(", ", Partitions)}.");
            result[p.Name] = new RateLimitPolicyConfig(algorithm ?? "", (int)Math.Min(limit, int.MaxValue), window,
                burst is null ? null : (int)Math.Min(burst.Value, int.MaxValue), partition ?? "");
        }
        return result;
    }

    private static Dictionary<string, CachePolicyConfig> ParseCachePolicies(JsonElement root, List<string> errors)
    {
        var result = new Dictionary<string, CachePolicyConfig>(StringComparer.Ordinal);
        if (!Section(root, "cachePolicies", required: false, errors, out var section)) return result;
        foreach (var p in section.EnumerateObject())
        {
            string who = $"Cache policy '{p.Name}'";
            if (!IsObject(p.Value, who, errors)) continue;
            UnknownProperties(p.Value, CacheProps, who, errors);
            double ttl = PositiveNumber(p.Value, "ttlSeconds", who, errors, required: true) ?? 0;
            bool vary = false;
            if (p.Value.TryGetProperty("varyByOrg", out var v))
            {
                if (v.ValueKind is JsonValueKind.True or JsonValueKind.False) vary = v.GetBoolean();
                else errors.Add($"{who} has 'varyByOrg' {v.GetRawText()}, which is not a boolean. Use true or false.");
            }
            result[p.Name] = new CachePolicyConfig(ttl, vary);
        }
        return result;
    }

    private static string[] ParseIdentityHeaders(JsonElement root, List<string> errors)
    {
        if (!Section(root, "identityHeaders", required: false, errors, out var section)) return [];
        var result = new List<string>();
        foreach (var p in section.EnumerateObject())
        {
            if (p.NameEquals("//")) continue;
            if (!p.NameEquals("additional"))
            {
                errors.Add($"'identityHeaders' has property '{p.Name}'. The built-in identity headers (X-User-Id, X-Session-Id, X-Org-Id, X-Org-Role, X-Gateway-*) are always stripped and cannot be removed or replaced; only 'additional' (extra names to strip) is supported.");
                continue;
            }
            if (p.Value.ValueKind != JsonValueKind.Array)
            {
                errors.Add("'identityHeaders.additional' is not an array. Use e.g. [\"X-Tenant-Id\"].");
                continue;
            }
            foreach (var item in p.Value.EnumerateArray())
            {
                string? name = item.ValueKind == JsonValueKind.String ? item.GetString() : null;
                if (string.IsNullOrWhiteSpace(name) || !IsHeaderToken(name))
                    errors.Add($"'identityHeaders.additional' contains {item.GetRawText()}, which is not a header name. Use names such as \"X-Tenant-Id\".");
                else result.Add(name);
            }
        }
        return [.. result];
    }

    private static bool IsHeaderToken(string name)
    {
        foreach (char c in name)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')) return false;
        return true;
    }

    private static bool Section(JsonElement root, string name, bool required, List<string> errors, out JsonElement section)
    {
        if (!root.TryGetProperty(name, out section))
        {
            if (required) errors.Add($"The section '{name}' is missing. Add \"{name}\": {{ ... }} at the top level.");
            return false;
        }
        if (section.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"The section '{name}' must be a JSON object keyed by name, not {section.ValueKind.ToString().ToLowerInvariant()}.");
            return false;
        }
        return true;
    }

    private static bool IsObject(JsonElement e, string who, List<string> errors)
    {
        if (e.ValueKind == JsonValueKind.Object) return true;
        errors.Add($"{who} must be a JSON object, not {e.ValueKind.ToString().ToLowerInvariant()}.");
        return false;
    }

    private static void UnknownProperties(JsonElement e, string[] known, string who, List<string> errors)
    {
        foreach (var p in e.EnumerateObject())
            if (Array.IndexOf(known, p.Name) < 0)
                errors.Add($"{who} has unknown property '{p.Name}'. Remove it or fix the spelling; known properties: {string.Join(", ", known.Where(k => k != "//"))}.");
    }

    private static string? RequiredString(JsonElement e, string name, string who, List<string> errors, string fix)
    {
        if (!e.TryGetProperty(name, out var v))
        {
            errors.Add($"{who} is missing '{name}'. {fix}");
            return null;
        }
        if (v.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(v.GetString()))
        {
            errors.Add($"{who} has '{name}' {v.GetRawText()}, which is not a non-empty string. {fix}");
            return null;
        }
        return v.GetString();
    }

    private static string? OptionalString(JsonElement e, string name, string who, List<string> errors)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.String) return v.GetString();
        errors.Add($"{who} has '{name}' {v.GetRawText()}, which is not a string. Use a quoted name or remove it.");
        return null;
    }

    private static double? PositiveNumber(JsonElement e, string name, string who, List<string> errors, bool required, bool integer = false)
    {
        if (!e.TryGetProperty(name, out var v))
        {
            if (required) errors.Add($"{who} is missing '{name}'. Set it to a positive number.");
            return null;
        }
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out double d) || d <= 0 || (integer && d != Math.Floor(d)))
        {
            errors.Add($"{who} has '{name}' {v.GetRawText()}, which is not a positive {(integer ? "integer" : "number")}. Set it to a value greater than 0.");
            return null;
        }
        return d;
    }

    private static string Names(IEnumerable<string> names)
    {
        var list = names.Order(StringComparer.Ordinal).ToList();
        return list.Count == 0 ? "(none defined)" : string.Join(", ", list);
    }

    private static string FirstSentence(string message)
    {
        int i = message.IndexOf(" Path:", StringComparison.Ordinal);
        string s = i > 0 ? message[..i] : message;
        return s.EndsWith('.') ? s : s + ".";
    }
}
