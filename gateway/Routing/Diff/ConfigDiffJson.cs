using System.Text.Json;
using Gateway.Observability;
using Gateway.Routing.Explain;
using Gateway.Pipeline;

namespace Gateway.Routing.Diff;

/// <summary>The diff as JSON (<c>validate --diff --json</c>, and the reload audit in <c>/gateway/status</c>).</summary>
internal static class ConfigDiffJson
{
    public static void Write(Utf8JsonWriter writer, ConfigDiffReport report)
    {
        writer.WriteStartObject();
        writer.WriteString("oldVersion", report.OldVersion);
        writer.WriteString("newVersion", report.NewVersion);
        writer.WriteBoolean("weaker", report.HasWeakening);
        writer.WriteNumber("probes", report.Probes);
        writer.WriteBoolean("partial", report.Truncated);
        writer.WriteStartArray("changes");
        foreach (var change in report.Changes) WriteChange(writer, change);
        writer.WriteEndArray();
        writer.WriteStartArray("routes");
        foreach (var route in report.Routes)
        {
            writer.WriteStartObject();
            writer.WriteString("route", route.Route);
            writer.WriteString("change", route.Change);
            writer.WriteStringArray("details", route.Details);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    public static void WriteChange(Utf8JsonWriter writer, AccessChange change)
    {
        writer.WriteStartObject();
        writer.WriteString("kind", change.Kind.ToString().ToLowerInvariant());
        writer.WriteString("summary", ConfigDiffText.Summary(change));
        WriteSide(writer, "old", change.Old);
        WriteSide(writer, "new", change.New);
        writer.WriteStartArray("changes");
        foreach (var c in change.Changes)
        {
            writer.WriteStartObject();
            writer.WriteString("aspect", c.Name);
            writer.WriteString("old", c.Old);
            writer.WriteString("new", c.New);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteStartArray("requests");
        foreach (var r in change.Requests) WriteRequest(writer, r);
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteSide(Utf8JsonWriter writer, string name, RouteDecision d)
    {
        writer.WriteStartObject(name);
        writer.WriteString("outcome", ExplainJson.OutcomeName(d.Outcome));
        writer.WriteString("route", d.RouteId);
        writer.WriteString("class", d.Class.Name);
        writer.WriteString("auth", d.Access.ToString());
        writer.WriteEndObject();
    }

    public static void WriteRequest(Utf8JsonWriter writer, RequestProbe r)
    {
        writer.WriteStartObject();
        writer.WriteString("method", r.Method);
        writer.WriteString("path", r.Path);
        writer.WriteString("host", r.Host);
        writer.WriteStartObject("headers");
        foreach (var (k, v) in r.Headers) writer.WriteString(k, v);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    public static string ToJson(ConfigDiffReport report)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = OperatorEndpoints.ReadableText }))
            Write(writer, report);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
