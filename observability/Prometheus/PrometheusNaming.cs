using System.Text;

namespace Gateway.Observability.Prometheus;

/// <summary>
/// OpenTelemetry to Prometheus name translation (the rules of the OTel Prometheus exporter / specification):
/// invalid characters become '_', the unit becomes a suffix (<c>s</c> to <c>_seconds</c>, <c>By</c> to <c>_bytes</c>),
/// annotations in braces (<c>{request}</c>) are dropped, counters end with <c>_total</c>.
/// </summary>
internal static class PrometheusNaming
{
    public static string MetricName(string instrumentName, string? unit, bool isCounter)
    {
        var sb = new StringBuilder(instrumentName.Length + 16);
        AppendSanitized(sb, instrumentName, allowColon: true);
        string suffix = UnitSuffix(unit);
        if (suffix.Length > 0 && !EndsWith(sb, "_" + suffix)) sb.Append('_').Append(suffix);
        if (isCounter && !EndsWith(sb, "_total")) sb.Append("_total");
        return sb.ToString();
    }

    public static string LabelName(string key)
    {
        var sb = new StringBuilder(key.Length + 1);
        AppendSanitized(sb, key, allowColon: false);
        return sb.ToString();
    }

    /// <summary>The Prometheus suffix for a UCUM unit; empty for dimensionless or annotation-only units.</summary>
    public static string UnitSuffix(string? unit)
    {
        if (string.IsNullOrEmpty(unit)) return "";
        // Drop {annotations}: "{request}" means "a count of requests", not a unit.
        int brace = unit.IndexOf('{');
        string u = brace >= 0 ? unit[..brace] : unit;
        if (u.Length == 0 || u == "1") return "";
        return u switch
        {
            "s" => "seconds",
            "ms" => "milliseconds",
            "us" => "microseconds",
            "ns" => "nanoseconds",
            "min" => "minutes",
            "h" => "hours",
            "By" => "bytes",
            "KiBy" => "kibibytes",
            "MiBy" => "mebibytes",
            "%" => "percent",
            "By/s" => "bytes_per_second",
            _ => Sanitize(u.Replace("/", "_per_", StringComparison.Ordinal)),
        };
    }

    private static string Sanitize(string s)
    {
        var sb = new StringBuilder(s.Length);
        AppendSanitized(sb, s, allowColon: false);
        return sb.ToString().Trim('_');
    }

    private static void AppendSanitized(StringBuilder sb, string s, bool allowColon)
    {
        int start = sb.Length;
        foreach (char c in s)
        {
            bool ok = c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_' || (allowColon && c == ':');
            char mapped = ok ? c : '_';
            // Collapse runs of '_' produced by replacement, as the OTel exporter does.
            if (mapped == '_' && sb.Length > start && sb[^1] == '_') continue;
            sb.Append(mapped);
        }
        if (sb.Length == start || char.IsAsciiDigit(sb[start])) sb.Insert(start, '_');
    }

    private static bool EndsWith(StringBuilder sb, string suffix)
    {
        if (sb.Length < suffix.Length) return false;
        for (int i = 0; i < suffix.Length; i++)
        {
            if (sb[sb.Length - suffix.Length + i] != suffix[i]) return false;
        }
        return true;
    }
}
