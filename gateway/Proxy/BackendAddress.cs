using Microsoft.Extensions.Options;

namespace Gateway.Proxy;

/// <summary>
/// <c>Backend:BaseUrl</c>: the auth backend (introspection, readiness) and the default address of the route-class
/// file's clusters; <c>Backend:H2cUrl</c>: the same backend's h2c listener, which those clusters use when it is set.
/// Read while the builder is built, because the proxy config is, so checked then.
/// </summary>
internal static class BackendAddress
{
    /// <summary>The absolute base URL with one trailing '/'; throws <see cref="OptionsValidationException"/> naming the setting.</summary>
    public static Uri FromConfiguration(IConfiguration config)
    {
        string backend = config["Backend:BaseUrl"] ?? "";
        if (!Uri.TryCreate(backend, UriKind.Absolute, out var uri))
            throw new OptionsValidationException("Backend", typeof(string), [$"Backend:BaseUrl '{backend}' is not an absolute URL. Set it, e.g. http://127.0.0.1:8090."]);
        return new Uri(uri.AbsoluteUri.TrimEnd('/') + "/");
    }

    /// <summary>
    /// <c>Backend:H2cUrl</c>: the backend's HTTP/2-only cleartext listener (the backend's <c>Backend:H2cUrls</c>), or null
    /// when unset. When set, the route-class file's clusters that name no address of their own (the <c>""</c> shorthand)
    /// and ask for no protocol are proxied there over HTTP/2 with prior knowledge instead of HTTP/1.1 to
    /// <c>Backend:BaseUrl</c> (<see cref="Gateway.Routing.ProxyConfigBuilder.Clusters"/>). Throws
    /// <see cref="OptionsValidationException"/> for anything but an absolute http:// URL.
    /// </summary>
    public static string? H2cFromConfiguration(IConfiguration config)
    {
        string h2c = config[H2cKey] ?? "";
        if (h2c.Length == 0) return null;
        if (!Uri.TryCreate(h2c, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp)
            throw new OptionsValidationException("Backend", typeof(string),
                [$"{H2cKey} '{h2c}' is not an absolute http:// URL. Set it to the backend's h2c listener (its Backend:H2cUrls), e.g. http://127.0.0.1:8091, or leave it empty for HTTP/1.1 to Backend:BaseUrl."]);
        return uri.AbsoluteUri.TrimEnd('/') + "/";
    }

    public const string H2cKey = "Backend:H2cUrl";
}
