using System.Text.Json;
using Gateway.Observability.Fleet;
using Gateway.Observability.Prometheus;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Gateway.Observability;

/// <summary>
/// The operator endpoints: <c>/metrics</c>, <c>/gateway/status</c>, <c>/gateway/stats</c> (<c>?scope=fleet</c> adds every
/// instance), <c>/gateway/validate</c>, <c>/gateway/dashboard</c>; admin only.
/// </summary>
internal static class OperatorEndpoints
{
    /// <summary>Maps the operator endpoints behind <see cref="AdminAccess"/>. Call after <c>AddGatewayObservability</c>.</summary>
    public static RouteGroupBuilder MapGatewayOperatorEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("");
        group.RequireAdminAccess();
        group.MapPrometheusMetrics();
        group.MapGet("/gateway/status", WriteStatusAsync);
        group.MapGet("/gateway/stats", WriteStatsAsync);
        group.MapGet("/gateway/validate", WriteValidateAsync);
        group.MapGet("/gateway/dashboard", static (HttpContext context) =>
        {
            context.Response.Headers.ContentSecurityPolicy = DashboardPage.ContentSecurityPolicy;
            return TypedResults.Content(DashboardPage.Html, "text/html; charset=utf-8");
        });
        return group;
    }

    // Operator JSON is read by people and served as application/json: no HTML-safe escaping (\u0027 for every apostrophe).
    internal static readonly System.Text.Encodings.Web.JavaScriptEncoder ReadableText = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    private static async Task WriteStatusAsync(HttpContext context, IEnumerable<IStatusContributor> contributors, TimeProvider time)
    {
        await using var writer = StartJson(context, indented: true);
        writer.WriteStartObject();
        writer.WriteString("generatedAt", time.GetUtcNow());
        StatusJsonWriter.WriteSections(writer, contributors);
        writer.WriteEndObject();
        await writer.FlushAsync(context.RequestAborted);
    }

    private static async Task WriteStatsAsync(HttpContext context, RollingStats stats, IOptions<ObservabilityOptions> options,
        IEnumerable<IStatusContributor> contributors, IRouteClassCatalog catalog, FleetReader fleet, FleetIdentity identity, TimeProvider time)
    {
        bool fleetScope = string.Equals(context.Request.Query["scope"], "fleet", StringComparison.OrdinalIgnoreCase);
        // Read Redis before the response starts, so a slow or failed read can only shorten the fleet section.
        var view = fleetScope ? await fleet.ReadAsync() : null;
        var now = time.GetUtcNow();
        var classes = catalog.GetRouteClasses();
        await using var writer = StartJson(context, indented: false);
        writer.WriteStartObject();
        writer.WriteString("instance", identity.InstanceId);
        StatsJsonWriter.WriteMembers(writer, stats, options.Value.TierBudgetsMs, classes, now);
        // The status sections too: one poll gives the dashboard config, breakers, Redis and the subscription.
        writer.WriteStartObject("status");
        StatusJsonWriter.WriteSections(writer, contributors);
        writer.WriteEndObject();
        if (view is not null) FleetJsonWriter.Write(writer, view, fleet, options.Value.TierBudgetsMs, classes, now);
        writer.WriteEndObject();
        await writer.FlushAsync(context.RequestAborted);
    }

    private static async Task WriteValidateAsync(HttpContext context, RollingStats stats, IOptions<ObservabilityOptions> options,
        IRouteClassCatalog catalog, TimeProvider time)
    {
        await using var writer = StartJson(context, indented: true);
        BudgetValidation.Write(writer, stats, options.Value.TierBudgetsMs, catalog.GetRouteClasses(), time.GetUtcNow());
        await writer.FlushAsync(context.RequestAborted);
    }

    private static Utf8JsonWriter StartJson(HttpContext context, bool indented)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        return new Utf8JsonWriter(context.Response.Body, new JsonWriterOptions { Indented = indented, Encoder = ReadableText });
    }
}
