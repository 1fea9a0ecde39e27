using System.Globalization;
using System.Text;

namespace Gateway.Observability.Prometheus;

/// <summary>Renders aggregated series as Prometheus text exposition format 0.0.4.</summary>
internal static class PrometheusTextWriter
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static string Render(IEnumerable<InstrumentAggregator> aggregators)
    {
        var ordered = new List<InstrumentAggregator>(aggregators);
        ordered.Sort(static (a, b) => string.CompareOrdinal(a.PrometheusName, b.PrometheusName));
        var sb = new StringBuilder(16 * 1024);
        var written = new HashSet<string>(StringComparer.Ordinal);
        foreach (var aggregator in ordered)
        {
            // Two meters may define the same instrument name; a family may appear only once, so the first wins.
            if (!written.Add(aggregator.PrometheusName)) continue;
            var series = aggregator.Series;
            if (series.Length == 0) continue;
            WriteFamily(sb, aggregator, series);
        }
        return sb.ToString();
    }

    private static void WriteFamily(StringBuilder sb, InstrumentAggregator aggregator, MetricSeries[] series)
    {
        string name = aggregator.PrometheusName;
        string help = aggregator.Instrument.Description ?? aggregator.Instrument.Name;
        if (help.Length == 0) help = aggregator.Instrument.Name;
        sb.Append("# HELP ").Append(name).Append(' ');
        AppendEscaped(sb, help, escapeQuotes: false);
        sb.Append('\n');
        sb.Append("# TYPE ").Append(name).Append(' ').Append(aggregator.PrometheusType).Append('\n');

        foreach (var s in series)
        {
            if (aggregator.Kind != AggregationKind.Histogram)
            {
                sb.Append(name);
                AppendLabels(sb, s.Tags, null, null);
                sb.Append(' ');
                AppendValue(sb, s.Value);
                sb.Append('\n');
                continue;
            }

            var bounds = aggregator.Bounds;
            long cumulative = 0;
            for (int i = 0; i <= bounds.Length; i++)
            {
                cumulative += s.BucketCount(i);
                sb.Append(name).Append("_bucket");
                AppendLabels(sb, s.Tags, "le", i < bounds.Length ? FormatValue(bounds[i]) : "+Inf");
                sb.Append(' ').Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
            sb.Append(name).Append("_sum");
            AppendLabels(sb, s.Tags, null, null);
            sb.Append(' ');
            AppendValue(sb, s.Sum);
            sb.Append('\n');
            sb.Append(name).Append("_count");
            AppendLabels(sb, s.Tags, null, null);
            // _count is the +Inf bucket: use the same cumulative value so the two can never disagree mid-scrape.
            sb.Append(' ').Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
    }

    private static void AppendLabels(StringBuilder sb, KeyValuePair<string, object?>[] tags, string? extraName, string? extraValue)
    {
        if (tags.Length == 0 && extraName is null) return;
        sb.Append('{');
        bool first = true;
        foreach (var tag in tags)
        {
            if (!first) sb.Append(',');
            first = false;
            sb.Append(PrometheusNaming.LabelName(tag.Key)).Append("=\"");
            AppendEscaped(sb, FormatTag(tag.Value), escapeQuotes: true);
            sb.Append('"');
        }
        if (extraName is not null)
        {
            if (!first) sb.Append(',');
            sb.Append(extraName).Append("=\"").Append(extraValue).Append('"');
        }
        sb.Append('}');
    }

    private static string FormatTag(object? value) => value switch
    {
        null => "",
        string s => s,
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>Label values escape backslash, double quote and line feed; HELP text escapes backslash and line feed.</summary>
    internal static void AppendEscaped(StringBuilder sb, string value, bool escapeQuotes)
    {
        foreach (char c in value)
        {
            switch (c)
            {
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '"' when escapeQuotes: sb.Append("\\\""); break;
                default: sb.Append(c); break;
            }
        }
    }

    private static void AppendValue(StringBuilder sb, double value) => sb.Append(FormatValue(value));

    internal static string FormatValue(double value)
    {
        if (double.IsPositiveInfinity(value)) return "+Inf";
        if (double.IsNegativeInfinity(value)) return "-Inf";
        if (double.IsNaN(value)) return "NaN";
        return value.ToString("R", CultureInfo.InvariantCulture);
    }
}
