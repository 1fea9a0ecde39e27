using System.Globalization;
using System.Text;

namespace Gateway.Observability.Prometheus;

/// <summary>Renders aggregated series as Prometheus text exposition format 0.0.4.</summary>
internal static class PrometheusTextWriter
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static string Render(IEnumerable<InstrumentAggregator> aggregators)
    {
        var sb = new StringBuilder(16 * 1024);
        Render(sb, aggregators);
        return sb.ToString();
    }

    /// <summary>Appends the exposition to <paramref name="sb"/> (the exporter reuses one builder across scrapes).</summary>
    public static void Render(StringBuilder sb, IEnumerable<InstrumentAggregator> aggregators)
    {
        var ordered = new List<InstrumentAggregator>(aggregators);
        ordered.Sort(static (a, b) => string.CompareOrdinal(a.PrometheusName, b.PrometheusName));
        var written = new HashSet<string>(StringComparer.Ordinal);
        foreach (var aggregator in ordered)
        {
            // Two meters may define the same instrument name; a family may appear only once, so the first wins.
            if (!written.Add(aggregator.PrometheusName)) continue;
            var series = aggregator.Series;
            if (series.Length == 0) continue;
            WriteFamily(sb, aggregator, series);
        }
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
                AppendLabels(sb, s.LabelText, null);
                sb.Append(' ');
                AppendValue(sb, s.Value);
                sb.Append('\n');
                continue;
            }

            var bounds = aggregator.BoundLabels;
            long cumulative = 0;
            for (int i = 0; i <= bounds.Length; i++)
            {
                cumulative += s.BucketCount(i);
                sb.Append(name).Append("_bucket");
                AppendLabels(sb, s.LabelText, i < bounds.Length ? bounds[i] : "+Inf");
                sb.Append(' ').Append(cumulative).Append('\n');
            }
            sb.Append(name).Append("_sum");
            AppendLabels(sb, s.LabelText, null);
            sb.Append(' ');
            AppendValue(sb, s.Sum);
            sb.Append('\n');
            sb.Append(name).Append("_count");
            AppendLabels(sb, s.LabelText, null);
            // _count is the +Inf bucket: use the same cumulative value so the two can never disagree mid-scrape.
            sb.Append(' ').Append(cumulative).Append('\n');
        }
    }

    /// <summary><c>{labels}</c>, <c>{labels,le="bound"}</c>, <c>{le="bound"}</c> or nothing.</summary>
    private static void AppendLabels(StringBuilder sb, string labelText, string? le)
    {
        if (labelText.Length == 0 && le is null) return;
        sb.Append('{').Append(labelText);
        if (le is not null)
        {
            if (labelText.Length > 0) sb.Append(',');
            sb.Append("le=\"").Append(le).Append('"');
        }
        sb.Append('}');
    }

    /// <summary>
    /// A series' labels as exposition text (<c>tier="standard",route_class="login"</c>), formatted once when the series
    /// is created: a series' tags never change, and formatting them on every line of every scrape was most of a
    /// scrape's allocations.
    /// </summary>
    internal static string FormatLabels(KeyValuePair<string, object?>[] tags)
    {
        if (tags.Length == 0) return "";
        var sb = new StringBuilder(tags.Length * 24);
        for (int i = 0; i < tags.Length; i++)
        {
            if (i > 0) sb.Append(',');
            sb.Append(PrometheusNaming.LabelName(tags[i].Key)).Append("=\"");
            AppendEscaped(sb, FormatTag(tags[i].Value), escapeQuotes: true);
            sb.Append('"');
        }
        return sb.ToString();
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

    private static void AppendValue(StringBuilder sb, double value)
    {
        if (double.IsFinite(value)) sb.Append(CultureInfo.InvariantCulture, $"{value:R}");   // formats in place
        else sb.Append(FormatValue(value));
    }

    internal static string FormatValue(double value)
    {
        if (double.IsPositiveInfinity(value)) return "+Inf";
        if (double.IsNegativeInfinity(value)) return "-Inf";
        if (double.IsNaN(value)) return "NaN";
        return value.ToString("R", CultureInfo.InvariantCulture);
    }
}
