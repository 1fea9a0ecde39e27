using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace Gateway.Tls;

internal static class TlsSetup
{
    /// <summary>
    /// When <c>Tls:CertificatePath</c> is set: an HTTPS listener (HTTP/1.1 and HTTP/2 via ALPN) whose certificate is
    /// chosen per handshake from the <see cref="CertificateReloader"/>, next to the plain-HTTP listener(s).
    /// </summary>
    /// <param name="httpUrls">The plain-HTTP listeners (public and operator), bound explicitly next to the HTTPS one.</param>
    public static WebApplicationBuilder AddGatewayTls(this WebApplicationBuilder builder, string httpUrls)
    {
        var options = builder.Configuration.GetSection("Tls").Get<TlsOptions>() ?? new TlsOptions();
        builder.Services.AddOptions<TlsOptions>().Bind(builder.Configuration.GetSection("Tls")).ValidateDataAnnotations().ValidateOnStart();
        if (!options.Enabled) return builder;

        builder.Services.AddSingleton<CertificateReloader>();
        var uri = new Uri(options.Url);
        if (uri.Scheme != Uri.UriSchemeHttps)
            throw new OptionsValidationException("Tls", typeof(TlsOptions), [$"Tls:Url must be an https:// URL, got '{options.Url}'."]);
        // Explicit Listen() calls make Kestrel ignore UseUrls/--urls, so the plain-HTTP listeners are bound here too.
        var httpEndpoints = new List<Uri>();
        foreach (var url in httpUrls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            httpEndpoints.Add(new Uri(url.Replace("://*", "://0.0.0.0").Replace("://+", "://0.0.0.0")));

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            foreach (var http in httpEndpoints)
                kestrel.Listen(ToAddress(http.Host), http.Port);   // Kestrel's endpoint defaults: HTTP/1.1 and HTTP/2, or HTTP/2 only on an h2c port (H2cListener)
            var reloader = kestrel.ApplicationServices.GetRequiredService<CertificateReloader>();
            kestrel.Listen(ToAddress(uri.Host), uri.Port, listen =>
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(https => https.ServerCertificateSelector = (_, _) => reloader.Current);
            });
        });
        return builder;
    }

    private static IPAddress ToAddress(string host) =>
        host is "0.0.0.0" ? IPAddress.Any : host is "localhost" ? IPAddress.Loopback : IPAddress.Parse(host.Trim('[', ']'));

    /// <summary>HSTS on TLS responses only (sending it over plain HTTP is meaningless and forbidden by RFC 6797).</summary>
    public static IApplicationBuilder UseGatewayHsts(this IApplicationBuilder app)
    {
        var options = app.ApplicationServices.GetRequiredService<IOptions<TlsOptions>>().Value;
        if (!options.Enabled || !options.Hsts) return app;
        string value = $"max-age={(long)options.HstsMaxAge.TotalSeconds}" + (options.HstsIncludeSubDomains ? "; includeSubDomains" : "");
        return app.Use((context, next) =>
        {
            if (context.Request.IsHttps) context.Response.Headers.StrictTransportSecurity = value;
            return next(context);
        });
    }
}
