using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Options;

namespace Backend.Infrastructure;

/// <summary>
/// <c>Backend:H2cUrls</c>: extra listeners speaking HTTP/2 with prior knowledge (h2c) and nothing else, for the gateway.
/// Over HTTP/1.1 every proxied request costs each side a send, a receive and an empty read of its own on a pooled
/// connection; over HTTP/2 the gateway's concurrent requests share a few connections and their frames share system
/// calls, which measured 0.68-0.71x the gateway's CPU and 0.44-0.45x the backend's per proxied request (docs/performance.md,
/// "Thirteenth pass"). Kestrel speaks HTTP/2 on a cleartext port only when the port speaks nothing else, hence a port
/// of its own; the ordinary listeners keep serving HTTP/1.1 (probes, operators, other clients). Empty: none.
/// </summary>
internal static class GatewayH2cListener
{
    public const string Key = "Backend:H2cUrls";
    public const string StreamsKey = "Kestrel:Limits:Http2:MaxStreamsPerConnection";
    public const int DefaultMaxStreams = 100;

    /// <summary>
    /// Adds the h2c URLs to the listeners (<c>urls</c>, else <c>Backend:Urls</c>, else Kestrel's default) and makes
    /// their ports HTTP/2-only. Throws <see cref="OptionsValidationException"/> naming the setting for anything but
    /// http:// URLs with an explicit port.
    /// </summary>
    public static void Apply(WebApplicationBuilder builder)
    {
        var config = builder.Configuration;
        string listed = config["urls"] is { Length: > 0 } urls ? urls : config["Backend:Urls"] ?? "";
        string configured = config[Key] ?? "";
        var h2c = configured.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (h2c.Length == 0)
        {
            if (listed.Length > 0) builder.WebHost.UseUrls(listed);
            return;
        }
        var ports = new HashSet<int>();
        var errors = new List<string>();
        foreach (var url in h2c)
        {
            // "*" and "+" (any address) are Kestrel's, not URI syntax: parsed as 0.0.0.0, as the gateway's Gateway:H2cUrls.
            if (Uri.TryCreate(url.Replace("://*", "://0.0.0.0").Replace("://+", "://0.0.0.0"), UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttp
                && url.Contains(':' + uri.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal))
                ports.Add(uri.Port);
            else
                errors.Add($"{Key} holds '{url}', which is not an http:// URL with an explicit port. Use e.g. http://127.0.0.1:8091 (h2c is HTTP/2 without TLS, for the gateway's Backend:H2cUrl).");
        }
        // The gateway keeps one HTTP/2 connection per backend address, so the stream limit caps the requests it has in
        // flight here. Kestrel's 100 by default: at 1,024 client connections it gave up to 13,000-15,000 req/s at 81-93 µs
        // of gateway CPU, 256 at most 10,600 at 117-124 µs (a backend taking more at once only queues them itself; its
        // database pool is 64). Kestrel:Limits:Http2:MaxStreamsPerConnection sets it. Only h2c ports speak HTTP/2 here.
        int maxStreams = DefaultMaxStreams;
        if (config[StreamsKey] is { Length: > 0 } streams && !(int.TryParse(streams, out maxStreams) && maxStreams > 0))
            errors.Add($"{StreamsKey} is '{streams}', which is not a positive whole number (the HTTP/2 streams one gateway connection may carry at once; default {DefaultMaxStreams}).");
        if (errors.Count > 0) throw new OptionsValidationException(Key, typeof(string), errors);
        builder.Services.AddSingleton(new GatewayH2cPorts(ports));
        builder.WebHost.UseUrls(string.Join(';', [.. (listed.Length > 0 ? listed : "http://localhost:5000").Split(';', StringSplitOptions.RemoveEmptyEntries), .. h2c]));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.Http2.MaxStreamsPerConnection = maxStreams;
            kestrel.ConfigureEndpointDefaults(listen =>
            {
                if (ports.Contains(listen.IPEndPoint?.Port ?? -1)) listen.Protocols = HttpProtocols.Http2;
            });
        });
    }

    /// <summary>
    /// Requests on the gateway's h2c ports read their bodies without Kestrel's minimum data rate. The gateway streams its
    /// clients' bodies at their own pace over one shared HTTP/2 connection, and on HTTP/2 Kestrel enforces that rate for
    /// the whole connection: a few stalled uploads of one client aborted it, failing every other client's requests on
    /// it and opening the gateway's backend breaker for everyone. The gateway enforces the rate where it belongs, per
    /// client connection at the edge (its Kestrel limits, docs/hardening.md), and the class timeout bounds every request;
    /// here it could only punish all clients for one. The backend's other ports keep the check. Before anything reads a body.
    /// </summary>
    public static IApplicationBuilder UseGatewayH2cBodies(this IApplicationBuilder app)
    {
        var ports = app.ApplicationServices.GetService<GatewayH2cPorts>()?.Ports;
        if (ports is not { Count: > 0 }) return app;
        return app.Use((context, next) =>
        {
            if (ports.Contains(context.Connection.LocalPort) && context.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } rate)
                rate.MinDataRate = null;   // HTTP/2 streams accept only null here
            return next(context);
        });
    }
}

/// <summary>The ports of <see cref="GatewayH2cListener"/>'s listeners.</summary>
internal sealed record GatewayH2cPorts(IReadOnlySet<int> Ports);
