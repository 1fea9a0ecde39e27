using System.Net;
using Microsoft.Extensions.Options;

namespace Gateway.Observability;

/// <summary>
/// The operator listener's resolved address (<see cref="AdminListenerOptions.Url"/>), validated with every error at once
/// before anything binds.
/// </summary>
internal sealed class AdminListener
{
    /// <summary>No operator listener: no local port matches, so the operator paths answer nowhere.</summary>
    public static readonly AdminListener Disabled = new(null, -1, beyondLoopback: false);

    private AdminListener(string? url, int port, bool beyondLoopback)
    {
        Url = url;
        Port = port;
        BeyondLoopback = beyondLoopback;
    }

    public string? Url { get; }
    public int Port { get; }
    /// <summary>Bound to an address other clients can reach: the admin key is required on every request.</summary>
    public bool BeyondLoopback { get; }

    /// <summary>The paths of the operator surface: <c>/metrics</c> and <c>/gateway</c>, any case, with any sub-path.</summary>
    public static bool IsOperatorPath(PathString path) =>
        path.StartsWithSegments("/gateway", StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments("/metrics", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Reads <c>Admin:Url</c> and <c>Admin:Key</c>; throws <see cref="OptionsValidationException"/> naming every problem
    /// and its fix. <paramref name="publicPorts"/>: the ports of the public listener(s), which the operator port must avoid.
    /// </summary>
    public static AdminListener FromConfiguration(IConfiguration config, IReadOnlyCollection<int> publicPorts)
    {
        var options = new AdminListenerOptions();
        config.GetSection(AdminAccessOptions.SectionName).Bind(options);
        if (string.IsNullOrWhiteSpace(options.Url)) return Disabled;

        var errors = new List<string>();
        string url = options.Url.Trim();
        if (!Uri.TryCreate(url.Replace("://*", "://0.0.0.0").Replace("://+", "://0.0.0.0"), UriKind.Absolute, out var uri)
            || uri.Scheme != Uri.UriSchemeHttp || uri.AbsolutePath != "/" || uri.IsDefaultPort)
        {
            errors.Add($"Admin:Url '{url}' is not an http:// address with a port of its own (not 80). Set it like http://127.0.0.1:9080 (or empty to turn the operator listener off).");
            throw new OptionsValidationException(AdminAccessOptions.SectionName, typeof(AdminListenerOptions), errors);
        }
        bool beyondLoopback = !IsLoopback(uri.Host);
        foreach (int port in publicPorts)
            if (port == uri.Port)
                errors.Add($"Admin:Url '{url}' uses port {port}, which the public listener uses too. Give the operator listener a port of its own, e.g. {port + 1000}.");
        string? key = config[AdminAccessOptions.SectionName + ":" + nameof(AdminAccessOptions.Key)];
        if (beyondLoopback && string.IsNullOrEmpty(key))
            errors.Add($"Admin:Url '{url}' listens beyond loopback, so the operator endpoints need a key: set Admin:Key (at least 16 characters, sent as X-Admin-Key), or bind Admin:Url to 127.0.0.1.");
        if (errors.Count > 0) throw new OptionsValidationException(AdminAccessOptions.SectionName, typeof(AdminListenerOptions), errors);
        return new AdminListener(url, uri.Port, beyondLoopback);
    }

    /// <summary>The ports of a <c>urls</c> list (<c>http://127.0.0.1:8080;https://*:8443</c>); unparsable entries are skipped.</summary>
    public static List<int> Ports(string urls)
    {
        var ports = new List<int>();
        foreach (var entry in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            if (Uri.TryCreate(entry.Replace("://*", "://0.0.0.0").Replace("://+", "://0.0.0.0"), UriKind.Absolute, out var uri)) ports.Add(uri.Port);
        return ports;
    }

    private static bool IsLoopback(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
}
