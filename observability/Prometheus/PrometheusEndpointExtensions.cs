using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Observability.Prometheus;

/// <summary>Registration and mapping of the Prometheus <c>/metrics</c> endpoint; usable by both services.</summary>
public static class PrometheusEndpointExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="PrometheusExporter"/> listening to <paramref name="meters"/>
    /// (default: <see cref="PrometheusExporterOptions.DefaultMeters"/>). The container disposes it at shutdown.
    /// </summary>
    public static IServiceCollection AddPrometheusMetrics(this IServiceCollection services, params string[] meters)
    {
        services.AddMetrics();
        services.AddSingleton(sp =>
        {
            var options = new PrometheusExporterOptions();
            if (meters.Length > 0) options.Meters = [.. meters];
            return new PrometheusExporter(options, sp.GetService<IMeterFactory>());
        });
        return services;
    }

    /// <summary>
    /// Maps <c>GET {path}</c> to the exposition. The exporter starts listening when the endpoint is mapped, so instruments
    /// recorded before the first scrape are counted. <paramref name="isAllowed"/> gates access (403 when it says no);
    /// null leaves gating to the caller (for example a route group filter).
    /// </summary>
    public static IEndpointConventionBuilder MapPrometheusMetrics(this IEndpointRouteBuilder endpoints, Func<HttpContext, bool>? isAllowed = null, string path = "/metrics")
    {
        var exporter = endpoints.ServiceProvider.GetRequiredService<PrometheusExporter>();
        return endpoints.MapGet(path, async context =>
        {
            if (isAllowed is not null && !isAllowed(context))
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                return;
            }
            context.Response.ContentType = PrometheusTextWriter.ContentType;
            context.Response.Headers.CacheControl = "no-store";
            await exporter.WriteScrapeAsync(context.Response.BodyWriter, context.RequestAborted).ConfigureAwait(false);
        });
    }
}
