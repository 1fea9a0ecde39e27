using System.Buffers;
using System.Text.Json;
using Gateway.Observability.Prometheus;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Gateway.Observability;

/// <summary>The operator endpoints: <c>/metrics</c>, <c>/gateway/status</c>, <c>/gateway/stats</c>, <c>/gateway/dashboard</c>; admin only.</summary>
internal static class OperatorEndpoints
{
    /// <summary>Maps the operator endpoints behind <see cref="AdminAccess"/>. Call after <c>AddGatewayObservability</c>.</summary>
    public static RouteGroupBuilder MapGatewayOperatorEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("");
        group.AddEndpointFilter<AdminAccessFilter>();
        group.MapPrometheusMetrics();
        group.MapGet("/gateway/status", WriteStatusAsync);
        group.MapGet("/gateway/stats", WriteStatsAsync);
        group.MapGet("/gateway/dashboard", static () => TypedResults.Content(DashboardPage.Html, "text/html; charset=utf-8"));
        return group;
    }

    // Operator JSON is read by people and served as application/json: no HTML-safe escaping (\u0027 for every apostrophe).
    private static readonly System.Text.Encodings.Web.JavaScriptEncoder ReadableText = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    private static async Task WriteStatusAsync(HttpContext context, IEnumerable<IStatusContributor> contributors, TimeProvider time)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        await using var writer = new Utf8JsonWriter(context.Response.Body, new JsonWriterOptions { Indented = true, Encoder = ReadableText });
        writer.WriteStartObject();
        writer.WriteString("generatedAt", time.GetUtcNow());
        foreach (var contributor in contributors)
        {
            writer.WritePropertyName(contributor.Name);
            // Each section is written to its own buffer first, so a contributor failing half-way cannot corrupt the document.
            var section = new ArrayBufferWriter<byte>();
            try
            {
                using (var sectionWriter = new Utf8JsonWriter(section, new JsonWriterOptions { Encoder = ReadableText }))
                {
                    contributor.WriteStatus(sectionWriter);
                }
                writer.WriteRawValue(section.WrittenSpan);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A broken contributor must not hide the others; report its failure kind, not its message (may hold data).
                writer.WriteStartObject();
                writer.WriteBoolean("healthy", false);
                writer.WriteString("error", ex.GetType().Name);
                writer.WriteEndObject();
            }
        }
        writer.WriteEndObject();
        await writer.FlushAsync(context.RequestAborted);
    }

    private static async Task WriteStatsAsync(HttpContext context, RollingStats stats, IOptions<ObservabilityOptions> options, TimeProvider time)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        await using var writer = new Utf8JsonWriter(context.Response.Body);
        StatsJsonWriter.Write(writer, stats, options.Value.TierBudgetsMs, time.GetUtcNow());
        await writer.FlushAsync(context.RequestAborted);
    }
}
