using System.Text.Json;

namespace Gateway.Routing.Validation;

/// <summary>
/// Reading helpers shared by the section validators. Each adds a complete message to <c>errors</c> (the entry, what is
/// wrong, how to fix it) instead of throwing, so one pass reports every error of the file.
/// </summary>
internal static class ConfigJson
{
    public static bool Section(JsonElement root, string name, bool required, List<string> errors, out JsonElement section)
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

    public static bool IsObject(JsonElement e, string who, List<string> errors)
    {
        if (e.ValueKind == JsonValueKind.Object) return true;
        errors.Add($"{who} must be a JSON object, not {e.ValueKind.ToString().ToLowerInvariant()}.");
        return false;
    }

    public static void UnknownProperties(JsonElement e, string[] known, string who, List<string> errors)
    {
        foreach (var p in e.EnumerateObject())
            if (Array.IndexOf(known, p.Name) < 0)
                errors.Add($"{who} has unknown property '{p.Name}'. Remove it or fix the spelling; known properties: {string.Join(", ", known.Where(k => k != "//"))}.");
    }

    public static string? RequiredString(JsonElement e, string name, string who, List<string> errors, string fix)
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

    public static string? OptionalString(JsonElement e, string name, string who, List<string> errors)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.String) return v.GetString();
        errors.Add($"{who} has '{name}' {v.GetRawText()}, which is not a string. Use a quoted name or remove it.");
        return null;
    }

    public static double? PositiveNumber(JsonElement e, string name, string who, List<string> errors, bool required, bool integer = false)
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

    /// <summary>The longest duration a file may set (a day): longer ones are mistakes, and near TimeSpan's range they overflow where used.</summary>
    public const double MaxSeconds = 86_400;

    /// <summary>
    /// A duration in seconds from 1 ms to <see cref="MaxSeconds"/>. Below a millisecond it rounded to zero where it was
    /// used (a zero window, TTL or probe interval); far above a day <c>TimeSpan.FromSeconds</c> threw at request time.
    /// </summary>
    public static double? Seconds(JsonElement e, string name, string who, List<string> errors, bool required)
    {
        double? seconds = PositiveNumber(e, name, who, errors, required);
        if (seconds is not { } d || d is >= 0.001 and <= MaxSeconds) return seconds;
        errors.Add($"{who} has '{name}' {e.GetProperty(name).GetRawText()}, which is outside 0.001 to {MaxSeconds} seconds (1 ms to a day). Use a value in that range.");
        return null;
    }

    /// <summary>The longest name of a class, route, cluster or policy.</summary>
    public const int MaxNameLength = 64;

    /// <summary>
    /// The entry names of a section (classes, routes, clusters, policies): letters, digits, '.', '_' and '-', starting
    /// with a letter or digit, at most <see cref="MaxNameLength"/>. Names are sent in response headers (X-Route-Class,
    /// RateLimit-Policy), where Kestrel refuses other characters at request time: a class named with a pasted en dash
    /// failed every one of its requests with a 500. And no two names of a section may differ only in letter case: the
    /// proxy compares route and cluster names ignoring case and refused the whole new route table after this file had
    /// been accepted, so the old routes kept serving under the new classes.
    /// </summary>
    public static void EntryNames(JsonElement root, string section, string kind, List<string> errors)
    {
        if (!root.TryGetProperty(section, out var entries) || entries.ValueKind != JsonValueKind.Object) return;
        var seen = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var p in entries.EnumerateObject())
        {
            if (!IsName(p.Name))
                errors.Add($"{kind} '{p.Name}' has a name the gateway cannot send in a header. Use only letters, digits, '.', '_' and '-', starting with a letter or digit, at most {MaxNameLength} characters.");
            else if (!seen.TryAdd(p.Name, p.Name))
                errors.Add($"{kind} '{p.Name}' and '{seen[p.Name]}' differ only in letter case. Names are compared ignoring case; rename one of them.");
        }
    }

    public static bool IsName(string name)
    {
        if (name.Length is 0 or > MaxNameLength || !char.IsAsciiLetterOrDigit(name[0])) return false;
        foreach (char c in name)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')) return false;
        return true;
    }

    public static string Names(IEnumerable<string> names)
    {
        var list = names.Order(StringComparer.Ordinal).ToList();
        return list.Count == 0 ? "(none defined)" : string.Join(", ", list);
    }
}
