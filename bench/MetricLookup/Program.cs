using System.Diagnostics;
using System.Diagnostics.Metrics;
using Gateway.Observability.Prometheus;

// One gateway.request.duration measurement (three labels, as RequestTelemetryMiddleware records it), through the
// exporter's MeterListener, after N other label sets were recorded first: what a gateway that has served N/3 route
// classes with three status classes each pays per request for that one measurement.
Console.WriteLine("other series | ns per measurement (best of 5 rounds of 5,000,000)");
foreach (int others in args.Length > 0 ? args.Select(int.Parse) : [0, 3, 9, 30, 90, 600])
{
    string meterName = $"MetricLookup{others}";
    using var exporter = new PrometheusExporter(new PrometheusExporterOptions { Meters = [meterName] });
    using var meter = new Meter(meterName);
    var histogram = meter.CreateHistogram<double>("gateway.request.duration", "s");
    string[] statuses = ["2xx", "4xx", "5xx"];
    for (int c = 0; c < others / 3; c++)
        foreach (var status in statuses)
            histogram.Record(0.001, new TagList { { "tier", "standard" }, { "route_class", $"class-{c:D3}" }, { "status_class", status } });
    // New instances, as the route-class file's parser makes them: equal values, not the same references.
    string tier = new("standard".ToCharArray()), routeClass = new("bench-session".ToCharArray()), statusClass = "2xx";
    void RecordOnce() => histogram.Record(0.0001, new TagList { { "tier", tier }, { "route_class", routeClass }, { "status_class", statusClass } });

    for (int i = 0; i < 3_000_000; i++) RecordOnce();   // tiered compilation reaches optimised code
    double best = double.MaxValue;
    for (int round = 0; round < 5; round++)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < 5_000_000; i++) RecordOnce();
        best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalNanoseconds / 5_000_000);
    }
    Console.WriteLine($"{others,12} | {best,6:F1}");
}
