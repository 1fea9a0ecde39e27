using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.Configuration.Memory;

namespace Gateway.Hosting;

internal static class ConfigurationLayers
{
    /// <summary>
    /// Inserts the gateway's base configuration layers below every source the host already has (its appsettings,
    /// environment variables, command line), lowest first: quiet framework log levels, the repository's shared
    /// <c>appsettings.json</c> (copied as appsettings.shared.json), then <c>appsettings.gateway.json</c>.
    /// </summary>
    public static WebApplicationBuilder AddGatewayConfigurationLayers(this WebApplicationBuilder builder)
    {
        var sources = builder.Configuration.Sources;
        // The gateway's own layer: Kestrel limits (docs/hardening.md) that must not reach the backend, which reads the
        // shared file too.
        sources.Insert(0, JsonNextToBinary("appsettings.gateway.json"));
        // The stack's shared defaults: every other source overrides them.
        sources.Insert(0, JsonNextToBinary("appsettings.shared.json"));
        // Below even that: log levels that keep Information free of per-request lines (hosting, YARP and
        // HttpClientFactory all log every request at Information). Any configuration layer can override them.
        sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?>
            {
                ["Logging:LogLevel:Default"] = "Information",
                ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
                ["Logging:LogLevel:Yarp"] = "Warning",
                // YARP's forwarder logs a Warning with the whole exception (5-14 KB) for every request whose body the
                // client garbles or abandons: one client could write ~0.5 MB/s. Error lets nothing of it through; the
                // gateway counts and logs every forwarder failure itself, throttled and by whose fault it is (ProxyStage).
                ["Logging:LogLevel:Yarp.ReverseProxy.Forwarder.HttpForwarder"] = "Error",
                ["Logging:LogLevel:System.Net.Http.HttpClient"] = "Warning",
            },
        });
        return builder;
    }

    private static JsonConfigurationSource JsonNextToBinary(string fileName)
    {
        var source = new JsonConfigurationSource { Path = Path.Combine(AppContext.BaseDirectory, fileName), Optional = true };
        // Its own file provider: otherwise the absolute path is looked up under the content root.
        source.ResolveFileProvider();
        return source;
    }
}
