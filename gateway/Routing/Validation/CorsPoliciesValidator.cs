using System.Text.Json;
using Gateway.Identity;

namespace Gateway.Routing.Validation;

/// <summary>
/// The 'corsPolicies' section, which classes reference by name ('cors'). Refuses what browsers would silently ignore or
/// what would open more than the operator meant: an origin with a path or a default port never matches a browser's
/// <c>Origin</c>, and <c>*</c> together with credentials is either refused by browsers or, echoed, trusts every site.
/// </summary>
internal static class CorsPoliciesValidator
{
    private static readonly string[] Props = ["origins", "methods", "headers", "exposeHeaders", "credentials", "maxAgeSeconds", "//"];
    private static readonly string[] Methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];
    private static readonly string[] DefaultMethods = ["GET", "HEAD", "POST"];
    /// <summary>Chromium caps a preflight cache at 2 hours, Firefox at 24: more than a day is a typo.</summary>
    public const int MaxAgeLimit = 86400;

    public static Dictionary<string, CorsPolicyConfig> Parse(JsonElement root, List<string> errors)
    {
        var result = new Dictionary<string, CorsPolicyConfig>(StringComparer.Ordinal);
        if (!ConfigJson.Section(root, "corsPolicies", required: false, errors, out var section)) return result;
        foreach (var p in section.EnumerateObject())
        {
            string who = $"CORS policy '{p.Name}'";
            if (!ConfigJson.IsObject(p.Value, who, errors)) continue;
            ConfigJson.UnknownProperties(p.Value, Props, who, errors);

            bool credentials = false;
            if (p.Value.TryGetProperty("credentials", out var c))
            {
                if (c.ValueKind is JsonValueKind.True or JsonValueKind.False) credentials = c.GetBoolean();
                else errors.Add($"{who} has 'credentials' {c.GetRawText()}, which is not a boolean. Use true (cookies are sent and the answer may be read with them) or false.");
            }

            var origins = Strings(p.Value, "origins", who, errors, required: true) ?? [];
            if (origins.Count == 0 && p.Value.TryGetProperty("origins", out _))
                errors.Add($"{who} has an empty 'origins'. List the exact origins allowed, e.g. [\"https://app.example.com\"].");
            foreach (var origin in origins)
            {
                if (origin == CorsPolicyConfig.Wildcard)
                {
                    if (origins.Count > 1) errors.Add($"{who} lists '*' together with other origins. Use either '*' alone or exact origins.");
                    if (credentials) errors.Add($"{who} allows origin '*' with credentials. Browsers refuse that combination and echoing any origin would let every site act with the user's cookie; list the exact origins instead.");
                }
                else if (OriginProblem(origin) is { } problem) errors.Add($"{who} has origin '{origin}', which {problem}");
            }

            var methods = Strings(p.Value, "methods", who, errors, required: false) ?? [.. DefaultMethods];
            foreach (var method in methods)
                if (Array.IndexOf(Methods, method) < 0)
                    errors.Add($"{who} has unknown method '{method}' in 'methods'. Use upper-case methods from: {string.Join(", ", Methods)} (preflights themselves are answered by the gateway).");

            var headers = Strings(p.Value, "headers", who, errors, required: false) ?? [];
            HeaderNames(headers, "headers", who, allowWildcard: true, errors);
            if (credentials && headers.Contains(CorsPolicyConfig.Wildcard))
                errors.Add($"{who} allows request headers '*' with credentials. Browsers do not treat '*' as a wildcard for credentialed requests; list the headers, e.g. [\"Content-Type\", \"X-Select-Org\"].");
            var expose = Strings(p.Value, "exposeHeaders", who, errors, required: false) ?? [];
            HeaderNames(expose, "exposeHeaders", who, allowWildcard: false, errors);

            int? maxAge = null;
            if (p.Value.TryGetProperty("maxAgeSeconds", out var m))
            {
                if (m.ValueKind == JsonValueKind.Number && m.TryGetInt32(out int seconds) && seconds >= 0 && seconds <= MaxAgeLimit) maxAge = seconds;
                else errors.Add($"{who} has 'maxAgeSeconds' {m.GetRawText()}, which is not a whole number from 0 to {MaxAgeLimit}. Use e.g. 600, or omit it.");
            }
            result[p.Name] = new CorsPolicyConfig(p.Name, origins, methods, headers, expose, credentials, maxAge);
        }
        return result;
    }

    /// <summary>Why <paramref name="origin"/> can never equal a browser's serialised <c>Origin</c>, with the fix; null when it can.</summary>
    internal static string? OriginProblem(string origin)
    {
        if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            return "is not an http(s) origin. Write it as scheme://host[:port], e.g. https://app.example.com.";
        string canonical = uri.IsDefaultPort ? $"{uri.Scheme}://{uri.Host}" : $"{uri.Scheme}://{uri.Host}:{uri.Port}";
        if (uri.Host.Length == 0 || !string.IsNullOrEmpty(uri.UserInfo) || uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.Fragment.Length > 0 || origin.EndsWith('/'))
            return $"has a path, query or user part. An origin is scheme://host[:port] only: use '{canonical}'.";
        if (!string.Equals(origin, canonical, StringComparison.Ordinal))
            return $"is not written the way browsers send it (lower case, no default port). Use '{canonical}'.";
        return null;
    }

    private static void HeaderNames(List<string> names, string property, string who, bool allowWildcard, List<string> errors)
    {
        foreach (var name in names)
        {
            if (name == CorsPolicyConfig.Wildcard)
            {
                if (!allowWildcard) errors.Add($"{who} has '*' in '{property}'. List the header names scripts may read, e.g. [\"X-Request-Id\"].");
                else if (names.Count > 1) errors.Add($"{who} lists '*' together with other names in '{property}'. Use either '*' alone or header names.");
            }
            else if (!IdentityHeaderMatcher.IsHeaderName(name))
                errors.Add($"{who} has '{name}' in '{property}', which is not a header name. Use letters, digits, '-', '_' or '.', e.g. X-Select-Org.");
        }
    }

    private static List<string>? Strings(JsonElement e, string name, string who, List<string> errors, bool required)
    {
        if (!e.TryGetProperty(name, out var v))
        {
            if (required) errors.Add($"{who} is missing '{name}'. Set it to a list of strings, e.g. [\"https://app.example.com\"].");
            return null;
        }
        if (v.ValueKind != JsonValueKind.Array)
        {
            errors.Add($"{who} has '{name}' {v.GetRawText()}, which is not a list of strings. Use e.g. [\"...\"].");
            return null;
        }
        var list = new List<string>();
        foreach (var item in v.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(item.GetString())) list.Add(item.GetString()!);
            else errors.Add($"{who} has {item.GetRawText()} in '{name}', which is not a non-empty string.");
        }
        return list;
    }
}
