namespace Gateway.Observability.Prometheus;

/// <summary>Which meters <see cref="PrometheusExporter"/> exports and how it buckets histograms.</summary>
public sealed class PrometheusExporterOptions
{
    /// <summary>
    /// The default meters: the gateway's, the backend's, ASP.NET Core hosting, Kestrel, HttpClient, Npgsql and the runtime's
    /// own (GC, memory, thread pool: observable instruments read at scrape time, nothing per request).
    /// </summary>
    public static readonly string[] DefaultMeters =
        ["Gateway", "Backend", "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Net.Http", "Npgsql", "System.Runtime"];

    /// <summary>Meter names whose every instrument is exported. The default value is <see cref="DefaultMeters"/>.</summary>
    public IList<string> Meters { get; set; } = [.. DefaultMeters];

    /// <summary>
    /// Buckets (upper bounds) for histograms whose unit is seconds and that give no bucket advice.
    /// The default value spans 100 µs to 10 s, suited to request and dependency latencies.
    /// </summary>
    public double[] SecondsBuckets { get; set; } =
        [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>Buckets for every other histogram without advice. The default value is OpenTelemetry's default.</summary>
    public double[] DefaultBuckets { get; set; } = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

    /// <summary>Most label sets kept per instrument; further ones are dropped. The default value is 2000.</summary>
    public int MaxSeriesPerInstrument { get; set; } = 2000;
}
