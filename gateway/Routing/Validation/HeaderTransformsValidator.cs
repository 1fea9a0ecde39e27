using System.Text.Json;
using Gateway.Identity;

namespace Gateway.Routing.Validation;

/// <summary>
/// A route's <c>requestHeaders</c> and <c>responseHeaders</c>: operator transforms (<c>set</c>, <c>append</c>,
/// <c>remove</c>). None may name an identity header: those are the gateway's alone (stripped from clients, then signed),
/// so a transform could only forge one or hand a client's value through.
/// </summary>
internal static class HeaderTransformsValidator
{
    private static readonly string[] Props = ["set", "append", "remove", "//"];
    // The gateway writes these itself on every proxied request (Proxy/ForwardedHeadersTransformProvider); an operator
    // value would be overwritten or, worse, mixed with the trusted chain.
    private static readonly string[] GatewayOwnedRequest = ["Forwarded", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Forwarded-Prefix", "X-Real-IP"];

    public static HeaderTransforms? Parse(JsonElement route, string property, string who, IdentityHeaderMatcher identity, List<string> errors)
    {
        if (!route.TryGetProperty(property, out var t)) return null;
        string whoT = $"{who} '{property}'";
        if (!ConfigJson.IsObject(t, whoT, errors)) return null;
        ConfigJson.UnknownProperties(t, Props, whoT, errors);
        bool request = property == "requestHeaders";
        var set = Pairs(t, "set", whoT, request, identity, errors);
        var append = Pairs(t, "append", whoT, request, identity, errors);
        var remove = new List<string>();
        if (t.TryGetProperty("remove", out var r))
        {
            if (r.ValueKind != JsonValueKind.Array) errors.Add($"{whoT} has 'remove' that is not an array. Use e.g. [\"X-Debug\"].");
            else
                foreach (var item in r.EnumerateArray())
                {
                    string? name = item.ValueKind == JsonValueKind.String ? item.GetString() : null;
                    if (CheckName(name, item.GetRawText(), "remove", whoT, request, identity, errors)) remove.Add(name!);
                }
        }
        return new HeaderTransforms(set, append, remove);
    }

    private static List<KeyValuePair<string, string>> Pairs(JsonElement t, string op, string whoT, bool request, IdentityHeaderMatcher identity, List<string> errors)
    {
        var result = new List<KeyValuePair<string, string>>();
        if (!t.TryGetProperty(op, out var o)) return result;
        if (o.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"{whoT} has '{op}' that is not an object. Use e.g. {{ \"X-Team\": \"orders\" }}.");
            return result;
        }
        foreach (var p in o.EnumerateObject())
        {
            if (!CheckName(p.Name, $"'{p.Name}'", op, whoT, request, identity, errors)) continue;
            string? value = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : null;
            if (value is null || value.AsSpan().IndexOfAnyInRange('\0', '\u001f') >= 0 || value.Contains('\u007f'))
                errors.Add($"{whoT} {op}s '{p.Name}' to {p.Value.GetRawText()}, which is not a header value. Use a string without control characters.");
            else result.Add(new(p.Name, value));
        }
        return result;
    }

    private static bool CheckName(string? name, string raw, string op, string whoT, bool request, IdentityHeaderMatcher identity, List<string> errors)
    {
        if (name is null || !IsHeaderToken(name))
        {
            errors.Add($"{whoT} '{op}' names {raw}, which is not a header name. Use letters, digits and '-', e.g. \"X-Team\".");
            return false;
        }
        if (identity.IsIdentityHeader(name))
        {
            errors.Add($"{whoT} '{op}' names '{name}', an identity header (X-User-Id, X-Session-Id, X-Org-Id, X-Org-Role, X-Gateway-* or identityHeaders.additional). Only the gateway sets these, signed; remove it from the transform.");
            return false;
        }
        if (request)
            foreach (var owned in GatewayOwnedRequest)
                if (string.Equals(owned, name, StringComparison.OrdinalIgnoreCase))
                {
                    errors.Add($"{whoT} '{op}' names '{name}', which the gateway sets itself from the trusted proxy chain. Remove it from the transform.");
                    return false;
                }
        return true;
    }

    public static bool IsHeaderToken(string name)
    {
        if (name.Length == 0) return false;
        foreach (char c in name)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')) return false;
        return true;
    }
}
