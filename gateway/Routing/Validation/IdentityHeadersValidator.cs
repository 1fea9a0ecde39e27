using System.Text.Json;
using Gateway.Identity;

namespace Gateway.Routing.Validation;

/// <summary>The 'identityHeaders' section: extra header names stripped from clients besides the built-in ones.</summary>
internal static class IdentityHeadersValidator
{
    public static string[] ParseIdentityHeaders(JsonElement root, List<string> errors)
    {
        if (!ConfigJson.Section(root, "identityHeaders", required: false, errors, out var section)) return [];
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
                if (!IdentityHeaderMatcher.IsHeaderName(name))
                    errors.Add($"'identityHeaders.additional' contains {item.GetRawText()}, which is not a header name. Use names such as \"X-Tenant-Id\".");
                else if (IdentityHeaderMatcher.IsReserved(name))
                    errors.Add(IdentityHeaderMatcher.ReservedMessage("'identityHeaders.additional' entry", name));
                else result.Add(name);
            }
        }
        return [.. result];
    }
}
