using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.IO.Pipelines;
using System.Text;

namespace Gateway.Observability.Prometheus;

/// <summary>
/// Aggregates every instrument of the configured meters through a <see cref="MeterListener"/> and renders them in the
/// Prometheus text exposition format 0.0.4. Observable instruments are collected at scrape time.
/// Lives in the shared Gateway.Observability assembly: both services export their meters through it.
/// </summary>
public sealed class PrometheusExporter : IDisposable
{
    private readonly MeterListener _listener;
    private readonly HashSet<string> _meters;
    private readonly object _meterScope;
    private readonly PrometheusExporterOptions _options;
    private readonly ConcurrentDictionary<Instrument, InstrumentAggregator> _aggregators = new();
    private readonly SemaphoreSlim _scrapeGate = new(1, 1);
    // Reused by every scrape (they are serialised by _scrapeGate): after the first, a scrape renders without growing it.
    private readonly StringBuilder _text = new(16 * 1024);

    /// <param name="options">Meters and buckets.</param>
    /// <param name="meterScope">
    /// The <see cref="IMeterFactory"/> of this host, or null. Meters created by a factory carry it as their scope;
    /// with a scope given, factory-created meters of other hosts in the same process (tests) are ignored, while meters
    /// created with <c>new Meter(...)</c> (scope null, e.g. Npgsql) are still exported.
    /// </param>
    public PrometheusExporter(PrometheusExporterOptions options, IMeterFactory? meterScope = null)
    {
        _options = options;
        _meterScope = meterScope ?? (object)this;
        _meters = new HashSet<string>(options.Meters, StringComparer.Ordinal);
        _listener = new MeterListener
        {
            InstrumentPublished = OnInstrumentPublished,
            MeasurementsCompleted = (instrument, _) => _aggregators.TryRemove(instrument, out InstrumentAggregator? _),
        };
        _listener.SetMeasurementEventCallback<double>(static (i, v, t, s) => ((InstrumentAggregator)s!).Record(v, t));
        _listener.SetMeasurementEventCallback<float>(static (i, v, t, s) => ((InstrumentAggregator)s!).Record(v, t));
        _listener.SetMeasurementEventCallback<long>(static (i, v, t, s) => ((InstrumentAggregator)s!).Record(v, t));
        _listener.SetMeasurementEventCallback<int>(static (i, v, t, s) => ((InstrumentAggregator)s!).Record(v, t));
        _listener.SetMeasurementEventCallback<short>(static (i, v, t, s) => ((InstrumentAggregator)s!).Record(v, t));
        _listener.SetMeasurementEventCallback<byte>(static (i, v, t, s) => ((InstrumentAggregator)s!).Record(v, t));
        _listener.SetMeasurementEventCallback<decimal>(static (i, v, t, s) => ((InstrumentAggregator)s!).Record((double)v, t));
        _listener.Start();
    }

    /// <summary>Collects observable instruments, then renders every series.</summary>
    public async Task<string> ScrapeAsync(CancellationToken cancellationToken = default)
    {
        await _scrapeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return Render().ToString();
        }
        finally
        {
            _scrapeGate.Release();
        }
    }

    /// <summary>
    /// Collects and renders as <see cref="ScrapeAsync"/> does, and writes the text to <paramref name="writer"/> as UTF-8
    /// straight from the reused builder, so a scrape allocates no string of the whole exposition.
    /// </summary>
    public async Task WriteScrapeAsync(PipeWriter writer, CancellationToken cancellationToken = default)
    {
        await _scrapeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var chunk in Render().GetChunks()) Encoding.UTF8.GetBytes(chunk.Span, writer);
            await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _scrapeGate.Release();
        }
    }

    /// <summary>Call holding <see cref="_scrapeGate"/>: observable callbacks write last values, two scrapes would race.</summary>
    private StringBuilder Render()
    {
        _listener.RecordObservableInstruments();
        _text.Clear();
        PrometheusTextWriter.Render(_text, _aggregators.Values);
        return _text;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _listener.Dispose();
        _scrapeGate.Dispose();
    }

    private void OnInstrumentPublished(Instrument instrument, MeterListener listener)
    {
        var meter = instrument.Meter;
        if (!_meters.Contains(meter.Name)) return;
        if (meter.Scope is IMeterFactory scope && !ReferenceEquals(scope, _meterScope)) return;

        var (kind, type) = Classify(instrument);
        bool isCounter = type == "counter";
        string name = PrometheusNaming.MetricName(instrument.Name, instrument.Unit, isCounter);
        double[] bounds = kind == AggregationKind.Histogram ? BucketsFor(instrument) : [];
        var aggregator = new InstrumentAggregator(instrument, name, type, kind, bounds, _options.MaxSeriesPerInstrument);
        _aggregators[instrument] = aggregator;
        listener.EnableMeasurementEvents(instrument, aggregator);
    }

    private static (AggregationKind Kind, string Type) Classify(Instrument instrument)
    {
        var definition = instrument.GetType().IsGenericType ? instrument.GetType().GetGenericTypeDefinition() : instrument.GetType();
        if (definition == typeof(Counter<>)) return (AggregationKind.Sum, "counter");
        if (definition == typeof(ObservableCounter<>)) return (AggregationKind.LastValue, "counter");
        if (definition == typeof(UpDownCounter<>)) return (AggregationKind.Sum, "gauge");
        if (definition == typeof(Histogram<>)) return (AggregationKind.Histogram, "histogram");
        // ObservableGauge, ObservableUpDownCounter, Gauge: the latest value is the value.
        return (AggregationKind.LastValue, "gauge");
    }

    private double[] BucketsFor(Instrument instrument)
    {
        var advised = instrument switch
        {
            Histogram<double> h => h.Advice?.HistogramBucketBoundaries is { } b ? ToDoubles(b) : null,
            Histogram<float> h => h.Advice?.HistogramBucketBoundaries is { } b ? ToDoubles(b) : null,
            Histogram<long> h => h.Advice?.HistogramBucketBoundaries is { } b ? ToDoubles(b) : null,
            Histogram<int> h => h.Advice?.HistogramBucketBoundaries is { } b ? ToDoubles(b) : null,
            _ => null,
        };
        if (advised is { Length: > 0 }) return advised;
        return instrument.Unit == "s" ? _options.SecondsBuckets : _options.DefaultBuckets;
    }

    private static double[] ToDoubles<T>(IReadOnlyList<T> values) where T : struct
    {
        var result = new double[values.Count];
        for (int i = 0; i < result.Length; i++) result[i] = Convert.ToDouble(values[i], System.Globalization.CultureInfo.InvariantCulture);
        return result;
    }
}
