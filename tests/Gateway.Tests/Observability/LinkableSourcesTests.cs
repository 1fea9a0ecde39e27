using System.Diagnostics.Metrics;
using Gateway.Observability.Backend;
using Gateway.Observability.Prometheus;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Observability;

/// <summary>The files the backend links must stay free of gateway-only types, and the backend instruments must export.</summary>
public sealed class LinkableSourcesTests
{
    private static readonly string[] LinkedFiles =
    [
        "Prometheus/*.cs", "Telemetry/*.cs", "Backend/*.cs", "AdminAccess.cs", "AdminAccessOptions.cs", "LoggingSetup.cs",
    ];

    [Fact]
    public void LinkedSources_UseNoGatewayOnlyNamespaces()
    {
        string root = FindObservabilityFolder();
        int checkedFiles = 0;
        foreach (var pattern in LinkedFiles)
        {
            string dir = Path.Combine(root, Path.GetDirectoryName(pattern) ?? "");
            foreach (var file in Directory.GetFiles(dir, Path.GetFileName(pattern)))
            {
                checkedFiles++;
                foreach (var line in File.ReadLines(file))
                {
                    if (!line.StartsWith("using Gateway.", StringComparison.Ordinal)) continue;
                    Assert.True(line.StartsWith("using Gateway.Observability.Prometheus", StringComparison.Ordinal),
                        $"{Path.GetFileName(file)} uses a gateway-only namespace and cannot be linked by the backend: {line}");
                }
            }
        }
        Assert.True(checkedFiles >= 8, $"only {checkedFiles} linkable files found under {root}");
    }

    [Fact]
    public async Task BackendInstruments_AreExported()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = services.GetRequiredService<IMeterFactory>();
        using var exporter = new PrometheusExporter(new PrometheusExporterOptions { Meters = [BackendMetrics.MeterName] }, factory);
        var metrics = new BackendMetrics(factory);

        metrics.RecordRequest("/users/{id}", 404, 0.002);
        string text = await exporter.ScrapeAsync(TestContext.Current.CancellationToken);

        Assert.Contains("backend_request_duration_seconds_count{endpoint=\"/users/{id}\",status_class=\"4xx\"} 1", text);
        PrometheusExporterTests.AssertValidExposition(text);
    }

    private static string FindObservabilityFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "gateway", "Observability");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new InvalidOperationException("gateway/Observability not found above " + AppContext.BaseDirectory);
    }
}
