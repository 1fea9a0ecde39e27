using Microsoft.Extensions.Options;

namespace Gateway.Proxy;

/// <summary>
/// <c>Backend:BaseUrl</c>: the auth backend (introspection, readiness) and the default address of the route-class
/// file's clusters. Read while the builder is built, because the proxy config is, so checked then.
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
}
