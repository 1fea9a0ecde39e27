using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace Gateway.Hosting;

/// <summary>
/// <c>Gateway:H2cUrls</c>: public listeners speaking HTTP/2 with prior knowledge and nothing else, for cleartext gRPC
/// clients. Kestrel answers HTTP/2 on a shared HTTP/1.1-and-HTTP/2 port only after TLS ALPN, so a cleartext gRPC client
/// (which starts with the HTTP/2 preface) needs a port of its own; behind TLS, or behind a balancer that speaks h2 to
/// the gateway over TLS, the ordinary listeners serve gRPC. Empty (the default): no such listener.
/// </summary>
internal sealed class H2cListener
{
    public const string Key = "Gateway:H2cUrls";

    private H2cListener(string urls, HashSet<int> ports)
    {
        Urls = urls;
        Ports = ports;
    }

    /// <summary>The configured URLs, <c>;</c>-separated, or "".</summary>
    public string Urls { get; }
    public IReadOnlySet<int> Ports { get; }

    /// <summary>Throws <see cref="OptionsValidationException"/> naming the setting for anything but http:// URLs with a port.</summary>
    public static H2cListener FromConfiguration(IConfiguration config)
    {
        string urls = config[Key] ?? "";
        var ports = new HashSet<int>();
        var errors = new List<string>();
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (Uri.TryCreate(url.Replace("://*", "://0.0.0.0").Replace("://+", "://0.0.0.0"), UriKind.Absolute, out var uri)
                && uri.Scheme == Uri.UriSchemeHttp && uri.Port > 0 && url.Contains(':' + uri.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal))
                ports.Add(uri.Port);
            else
                errors.Add($"{Key} holds '{url}', which is not an http:// URL with an explicit port. Use e.g. http://127.0.0.1:8082 (h2c is HTTP/2 without TLS; for TLS use Tls:Url, which speaks HTTP/2 by ALPN).");
        }
        if (errors.Count > 0) throw new OptionsValidationException(Key, typeof(H2cListener), errors);
        return new H2cListener(string.Join(';', urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)), ports);
    }

    /// <summary>HTTP/2 only on the h2c ports, through the endpoint defaults so it holds for --urls and explicit listens alike.</summary>
    public void Apply(IWebHostBuilder host)
    {
        if (Ports.Count == 0) return;
        host.ConfigureKestrel(kestrel => kestrel.ConfigureEndpointDefaults(listen =>
        {
            if (Ports.Contains(listen.IPEndPoint?.Port ?? -1)) listen.Protocols = HttpProtocols.Http2;
        }));
    }
}
