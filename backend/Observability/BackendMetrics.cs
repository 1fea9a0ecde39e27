using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Backend.Observability;

/// <summary>
/// The backend's own instruments on meter <c>Backend</c>, exported by the shared Prometheus exporter.
/// Database command duration/count and pool usage come from Npgsql's own meter (<c>Npgsql</c>):
/// <c>db.client.operation.duration</c>, <c>db.client.operation.failed</c>, <c>db.client.connection.count</c>
/// (tag <c>db.client.connection.state</c> idle/used), <c>db.client.connection.max</c>; export that meter too.
/// Password hashing is measured where it happens: <c>auth.password_hash.duration</c> in backend/Passwords.
/// </summary>
internal sealed class BackendMetrics
{
    /// <summary>The meter name.</summary>
    public const string MeterName = "Backend";

    private static readonly string[] StatusClasses = ["1xx", "1xx", "2xx", "3xx", "4xx", "5xx"];

    private readonly Histogram<double> _requestDuration;

    public BackendMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _requestDuration = meter.CreateHistogram<double>("backend.request.duration", "s",
            "Backend request duration by endpoint (route template) and status class.");
    }

    /// <summary>Records a request; <paramref name="endpoint"/> must be the route template (bounded), never the raw path.</summary>
    public void RecordRequest(string endpoint, int statusCode, double seconds)
    {
        int index = statusCode / 100;
        var tags = new TagList { { "endpoint", endpoint }, { "status_class", (uint)index < (uint)StatusClasses.Length ? StatusClasses[index] : "other" } };
        _requestDuration.Record(seconds, tags);
    }

}
