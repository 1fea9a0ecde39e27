using System.Text.Json;
using Gateway.Identity;

namespace Gateway.Routing.Validation;

/// <summary>
/// A route's <c>hosts</c> and <c>headers</c>: the conditions YARP matches besides path and method. The request's class
/// comes from the YARP route that matched, so whatever these select, classification agrees with the proxy.
/// </summary>
internal static class RouteMatchValidator
{
    /// <summary>YARP's <c>HeaderMatchMode</c> names.</summary>
    public static readonly string[] HeaderModes = ["ExactHeader", "HeaderPrefix", "Contains", "NotContains", "Exists", "NotExists"];
    private static readonly string[] HeaderProps = ["name", "values", "mode", "isCaseSensitive", "//"];

    public static List<string> Hosts(JsonElement route, string who, List<string> errors)
    {
        var result = new List<string>();
        if (!route.TryGetProperty("hosts", out var h)) return result;
        if (h.ValueKind != JsonValueKind.Array)
        {
            errors.Add($"{who} has 'hosts' that is not an array. Use e.g. [\"api.example.com\", \"*.example.com\"], or omit it to match every host.");
            return result;
        }
        foreach (var item in h.EnumerateArray())
        {
            string? host = item.ValueKind == JsonValueKind.String ? item.GetString() : null;
            if (host is null || !IsHost(host))
                errors.Add($"{who} has host {item.GetRawText()}, which is not a host name. Use a name such as \"api.example.com\", a wildcard \"*.example.com\", optionally with \":port\"; no scheme or path.");
            else result.Add(host);
        }
        if (h.GetArrayLength() == 0)
            errors.Add($"{who} has an empty 'hosts' list, which would match no request. List at least one host, or omit 'hosts' to match every host.");
        return result;
    }

    public static List<RouteHeaderMatch> Headers(JsonElement route, string who, IdentityHeaderMatcher identity, List<string> errors)
    {
        var result = new List<RouteHeaderMatch>();
        if (!route.TryGetProperty("headers", out var h)) return result;
        if (h.ValueKind != JsonValueKind.Array)
        {
            errors.Add($"{who} has 'headers' that is not an array. Use e.g. [{{ \"name\": \"X-Tenant\", \"values\": [\"a\"] }}].");
            return result;
        }
        foreach (var item in h.EnumerateArray())
        {
            string whoHeader = $"{who} header match {item.GetRawText()}";
            if (!ConfigJson.IsObject(item, whoHeader, errors)) continue;
            ConfigJson.UnknownProperties(item, HeaderProps, whoHeader, errors);
            string? name = ConfigJson.RequiredString(item, "name", whoHeader, errors, "Set 'name' to a header name such as \"X-Tenant\".");
            if (name is not null && !HeaderTransformsValidator.IsHeaderToken(name))
            {
                errors.Add($"{who} matches on header '{name}', which is not a header name. Use letters, digits and '-'.");
                name = null;
            }
            else if (name is not null && identity.IsIdentityHeader(name))
            {
                // The hygiene step strips these from every client request before routing: such a match could never see a value.
                errors.Add($"{who} matches on header '{name}', an identity header the gateway removes from every client request. Match on another header.");
                name = null;
            }
            string mode = ConfigJson.OptionalString(item, "mode", whoHeader, errors) ?? "ExactHeader";
            if (Array.IndexOf(HeaderModes, mode) < 0)
                errors.Add($"{who} has header mode '{mode}'. Use one of: {string.Join(", ", HeaderModes)} (default ExactHeader).");
            var values = new List<string>();
            if (item.TryGetProperty("values", out var v))
            {
                if (v.ValueKind != JsonValueKind.Array) errors.Add($"{who} has header 'values' that is not an array. Use e.g. [\"a\", \"b\"].");
                else
                    foreach (var value in v.EnumerateArray())
                    {
                        if (value.ValueKind == JsonValueKind.String && !string.IsNullOrEmpty(value.GetString())) values.Add(value.GetString()!);
                        else errors.Add($"{who} has header value {value.GetRawText()}, which is not a non-empty string.");
                    }
            }
            bool needsValues = mode is not ("Exists" or "NotExists");
            if (needsValues && values.Count == 0 && (!item.TryGetProperty("values", out var vv) || vv.ValueKind == JsonValueKind.Array && vv.GetArrayLength() == 0))
                errors.Add($"{who} matches header '{name}' with mode {mode} but no 'values'. List the values, or use mode Exists.");
            if (!needsValues && values.Count > 0)
                errors.Add($"{who} matches header '{name}' with mode {mode}, which takes no 'values'. Remove 'values' or use ExactHeader.");
            bool caseSensitive = false;
            if (item.TryGetProperty("isCaseSensitive", out var cs))
            {
                if (cs.ValueKind is JsonValueKind.True or JsonValueKind.False) caseSensitive = cs.GetBoolean();
                else errors.Add($"{who} has header 'isCaseSensitive' {cs.GetRawText()}, which is not true or false.");
            }
            if (name is not null) result.Add(new RouteHeaderMatch(name, values, mode, caseSensitive));
        }
        return result;
    }

    private static bool IsHost(string host)
    {
        if (host.Length == 0 || host.Contains("://", StringComparison.Ordinal)) return false;
        var name = host.AsSpan();
        int colon = name.LastIndexOf(':');
        if (colon >= 0)
        {
            if (!int.TryParse(name[(colon + 1)..], out int port) || port is < 1 or > 65535) return false;
            name = name[..colon];
        }
        if (name.StartsWith("*.")) name = name[2..];
        if (name.Length == 0) return false;
        foreach (char c in name)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '.')) return false;
        return name[0] != '.' && name[^1] != '.';
    }
}
