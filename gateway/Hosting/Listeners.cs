using Gateway.Limits;
using Gateway.Observability;
using Gateway.Tls;

namespace Gateway.Hosting;

internal static class Listeners
{
    /// <summary>
    /// The public listener(s) (<c>urls</c>, else <c>Gateway:Urls</c>), the operator listener on a port of its own
    /// (<c>Admin:Url</c>; <see cref="AdminListenerMiddleware"/> keeps the two apart), TLS when configured, and the
    /// Kestrel limits, no <c>Server</c> header. Throws <see cref="Microsoft.Extensions.Options.OptionsValidationException"/> for a bad address.
    /// </summary>
    public static WebApplicationBuilder AddGatewayListeners(this WebApplicationBuilder builder)
    {
        var config = builder.Configuration;
        string publicUrls = config["urls"] is { Length: > 0 } urls ? urls : config["Gateway:Urls"] is { Length: > 0 } configured ? configured : "http://localhost:5000";
        string tlsUrl = config["Tls:CertificatePath"] is { Length: > 0 } ? config["Tls:Url"] ?? new TlsOptions().Url : "";
        var h2c = H2cListener.FromConfiguration(config);
        if (h2c.Urls.Length > 0) publicUrls += ";" + h2c.Urls;
        var admin = AdminListener.FromConfiguration(config, AdminListener.Ports(publicUrls + ";" + tlsUrl));
        string httpUrls = admin.Url is null ? publicUrls : publicUrls + ";" + admin.Url;
        builder.WebHost.UseUrls(httpUrls);
        builder.Services.AddSingleton(admin);
        // Beyond loopback every operator request needs the key, loopback peers included: a local reverse proxy would
        // otherwise make every client a loopback client.
        if (admin.BeyondLoopback) builder.Services.PostConfigure<AdminAccessOptions>(o => o.AllowLoopback = false);
        h2c.Apply(builder.WebHost);
        builder.AddGatewayTls(httpUrls);
        builder.AddGatewayKestrelLimits();
        // No "Server: Kestrel" on the gateway's own answers; backends' are removed too (DisclosureHeadersTransformProvider).
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);
        return builder;
    }
}
